"""runs.fanout: a run's pushes are rendered once and shared by every viewer of it, a
wake-up reaches each server process once (not once per socket), and a render that meets a
dropped database connection is tried again, the sockets kept open."""

import asyncio
import html
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import OperationalError, connection

from runs import fanout, page
from runs.fanout import Audience
from runs.models import Kind, Run, run_group
from runs.training import train_run
from tests.runs.test_consumer import drain, run_async, run_path
from tests.sockets import socket_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
VIEWERS = 20


def test_twenty_viewers_share_one_render_per_push(client, student, start_run):
    run = start_run(student, num_steps=200, sample_count=0)
    open_socket = socket_for(client, student, run_path(run))

    async def scenario():
        sockets = [open_socket() for _ in range(VIEWERS)]
        for socket in sockets:
            assert (await socket.connect())[0]
        firsts = [await socket.receive_from(timeout=5) for socket in sockets]
        audience = Audience.audiences[run.pk]
        assert len(audience.viewers) == VIEWERS
        train = asyncio.ensure_future(database_sync_to_async(train_run)(run.pk, "t"))
        received = await asyncio.gather(
            *(drain(socket, 20, until='data-status="completed"') for socket in sockets)
        )
        await train
        for socket in sockets:
            await socket.disconnect()
        return firsts, received, audience

    firsts, received, audience = run_async(scenario)
    assert all('data-status="queued"' in first for first in firsts)
    texts = [[text for _, text in pushes] for pushes in received]
    assert all('data-status="completed"' in pushes[-1] for pushes in texts)
    assert len({pushes[-1] for pushes in texts}) == 1  # the same last push for everyone
    pushes_each = 1 + max(len(pushes) for pushes in texts)
    print(f"{VIEWERS} viewers, {pushes_each} pushes each, {audience.renders} renders")
    # once per push (and per distinct point viewers joined at), not once per socket
    assert audience.renders < pushes_each * VIEWERS / 4
    assert run.pk not in Audience.audiences  # gone with its last viewer


def test_a_render_that_meets_a_dropped_connection_is_tried_again(
    client, student, start_run, monkeypatch
):
    run = start_run(student, num_steps=30, sample_count=0)
    open_socket = socket_for(client, student, run_path(run))
    real_render, failures = fanout.render_for, []

    def render_while_the_database_is_down(run_id, since, **parts):
        if len(failures) < 2:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return real_render(run_id, since, **parts)

    monkeypatch.setattr(fanout, "render_for", render_while_the_database_is_down)
    monkeypatch.setattr("common.sockets.DATABASE_RETRY_SECONDS", 0.05)

    async def scenario():
        socket = open_socket()
        assert (await socket.connect())[0]
        first = await socket.receive_from(timeout=5)  # after two failed renders
        await database_sync_to_async(train_run)(run.pk, "t")
        pushes = await drain(socket, 10, until='data-status="completed"')
        await socket.disconnect()
        return first, pushes

    first, pushes = run_async(scenario)
    assert len(failures) == 2
    assert 'data-status="queued"' in first
    assert 'data-status="completed"' in pushes[-1][1]


def test_a_wake_up_reaches_the_process_once_not_once_per_socket(client, student, start_run):
    """The audience, not each socket, listens on the run's group: five wake-ups are five
    messages to this process however many sockets watch, and every socket gets the push."""
    run = start_run(student)
    open_socket = socket_for(client, student, run_path(run))

    async def scenario():
        sockets = [open_socket() for _ in range(VIEWERS)]
        for socket in sockets:  # (timeouts for a busy machine)
            assert (await socket.connect(timeout=5))[0]
        for socket in sockets:
            await socket.receive_from(timeout=10)
        audience = Audience.audiences[run.pk]
        await database_sync_to_async(run.append_events)(
            [(Kind.STEP, 1, {"step": 1, "loss": 2.5, "lr": 0.01})], current_step=1
        )
        layer = get_channel_layer()
        for _ in range(5):
            await layer.group_send(run_group(run.pk), {"type": "run.wake"})
            await asyncio.sleep(0.15)
        received = await asyncio.gather(
            *(drain(socket, 10, until='id="run-current-step">1<') for socket in sockets)
        )
        figures = audience.figures()
        for socket in sockets:
            await socket.disconnect()
        return figures, received

    figures, received = run_async(scenario)
    assert figures["wakes"] == 5
    # what the benchmark reads from the log: a push is rendered once for the viewers in
    # step and once for those who just joined (the whole state), never once per socket
    assert figures["renders"] <= 2 * figures["pushes"] and figures["render_cpu_ms"] > 0
    assert all('id="run-current-step">1<' in pushes[-1][1] for pushes in received)
    assert run.pk not in Audience.audiences


def test_sockets_in_step_get_one_render_and_the_very_same_text(client, student, start_run):
    """Once every socket has had the state, a wake-up is one render, however many sockets
    watch, and each of them is sent that same text."""
    run = start_run(student)
    open_socket = socket_for(client, student, run_path(run))

    async def scenario():
        sockets = [open_socket() for _ in range(VIEWERS)]
        for socket in sockets:
            assert (await socket.connect(timeout=5))[0]
        for socket in sockets:
            await socket.receive_from(timeout=10)
        audience = Audience.audiences[run.pk]
        while audience.dirty or (audience.pusher and not audience.pusher.done()):
            await asyncio.sleep(0.05)  # the pushes for sockets that joined late
        renders, pushes = audience.renders, audience.pushes
        await database_sync_to_async(run.append_events)(
            [(Kind.STEP, 1, {"step": 1, "loss": 2.5, "lr": 0.01})], current_step=1
        )
        await get_channel_layer().group_send(run_group(run.pk), {"type": "run.wake"})
        received = await asyncio.gather(
            *(drain(socket, 10, until='id="run-current-step">1<') for socket in sockets)
        )
        rendered = (audience.renders - renders, audience.pushes - pushes)
        for socket in sockets:
            await socket.disconnect()
        return rendered, received

    (renders, pushes), received = run_async(scenario)
    assert (renders, pushes) == (1, 1)
    lasts = {pushes[-1][1] for pushes in received}
    assert len(lasts) == 1 and 'id="run-current-step">1<' in lasts.pop()


def test_viewers_in_step_are_sent_their_push_before_a_newcomers_whole_state(
    client, student, start_run, monkeypatch
):
    """A push for viewers at different points renders each point apart, those in step
    first: a class opening the page does not hold back the pushes of those watching."""
    run = start_run(student)
    open_socket = socket_for(client, student, run_path(run))
    real_render, asked = fanout.render_for, []

    def recorded_render(run_id, since, **parts):
        asked.append({since})
        return real_render(run_id, since, **parts)

    monkeypatch.setattr(fanout, "render_for", recorded_render)

    async def scenario():
        watching = [open_socket() for _ in range(3)]
        for socket in watching:
            assert (await socket.connect(timeout=5))[0]
            await socket.receive_from(timeout=10)
        audience = Audience.audiences[run.pk]
        while audience.dirty or (audience.pusher and not audience.pusher.done()):
            await asyncio.sleep(0.05)
        await database_sync_to_async(run.append_events)(
            [(Kind.STEP, 1, {"step": 1, "loss": 2.5, "lr": 0.01})], current_step=1
        )
        asked.clear()
        # the next push waits a second: the newcomer and the wake-up are both in it
        audience.push_interval, audience.last_push = 1.0, time.monotonic()
        newcomer = open_socket()
        assert (await newcomer.connect(timeout=5))[0]
        await get_channel_layer().group_send(run_group(run.pk), {"type": "run.wake"})
        everyone = [*watching, newcomer]
        received = await asyncio.gather(
            *(drain(socket, 10, until='id="run-current-step">1<') for socket in everyone)
        )
        for socket in everyone:
            await socket.disconnect()
        return received

    received = run_async(scenario)
    assert len(asked) == 2 and None not in asked[0] and asked[1] == {None}
    assert all('id="run-current-step">1<' in pushes[-1][1] for pushes in received)
    assert 'id="run-series"' in received[-1][-1][1]  # the newcomer: the whole state


def test_heavy_panels_go_at_their_own_pace_and_none_is_lost(
    client, student, start_run, monkeypatch
):
    """The steps go with every push; the panels an evaluation or a snapshot changes about
    once every panels_interval (on the clock's ticks, never sooner than half of it after the
    last): those held back follow without another wake-up, every evaluation point once."""
    monkeypatch.setattr(Audience, "panels_interval", 2.0)
    trained = start_run(student, num_steps=200)
    train_run(trained.pk, "t")  # the events to store again, as a trainer would
    trained.refresh_from_db()
    events = [
        (e.kind, e.step, e.data)
        for e in trained.events.filter(seq__gt=1).exclude(kind=Kind.COMPLETED).order_by("seq")
    ]
    # two stretches of steps with evaluations in them and no snapshot (which is never held)
    snapshots, evals = set(trained.snapshot_steps()), trained.eval_steps()
    a = next(e for e in evals if e > 1 and not snapshots & set(range(e - 1, e + 8)))
    b, c = a + 3, a + 6
    first_evals = [e for e in evals if a <= e <= b]
    later_evals = [e for e in evals if b < e <= c]
    assert first_evals and later_evals
    run = start_run(student, num_steps=200)
    assert run.claim("test")
    run.append_events([e for e in events if e[1] < a], current_step=a - 1, vocab=trained.vocab)
    open_socket = socket_for(client, student, run_path(run))

    async def store_and_wake(first, last):
        chunk = [e for e in events if first <= e[1] <= last]
        await database_sync_to_async(run.append_events)(chunk, current_step=last)
        await get_channel_layer().group_send(run_group(run.pk), {"type": "run.wake"})

    async def scenario():
        socket = open_socket()
        assert (await socket.connect(timeout=5))[0]
        await socket.receive_from(timeout=10)  # the whole state, up to step a - 1
        await store_and_wake(a, b)
        first = await drain(socket, 5, until='id="run-evals-delta"')  # steps, then panels
        await asyncio.sleep(0.15)
        await store_and_wake(b + 1, c)
        second = await drain(socket, 0.4)  # within half the interval: the steps only
        later = await drain(socket, 3.5, until='id="run-evals-delta"')  # no wake-up sent
        await socket.disconnect()
        return [text for _, text in first], [text for _, text in second + later]

    first, later = run_async(scenario)
    # the first panels since the page opened go at once, after the steps
    assert len(first) == 2 and f'id="run-current-step">{b}<' in first[0]
    assert 'id="run-evals-delta"' not in first[0]
    assert 'id="run-evals-delta"' in first[1] and 'id="run-series-delta"' not in first[1]
    # the next within panels_interval: the steps at once, the panels later, apart
    assert len(later) == 2 and f'id="run-current-step">{c}<' in later[0]
    assert 'id="run-evals-delta"' not in later[0] and 'id="run-series-delta"' in later[0]
    assert 'id="run-evals-delta"' in later[1] and 'id="run-series-delta"' not in later[1]
    assert [json_steps(first[1]), json_steps(later[1])] == [first_evals, later_evals]


def json_steps(text):
    found = re.search(r'id="run-evals-delta"[^>]*data-evals="([^"]*)"', text)
    return json.loads(html.unescape(found.group(1)))["step"]


needs_shared_cache = pytest.mark.skipif(
    not settings.REDIS_URL, reason="the shared cache is Redis (production pass)"
)


@needs_shared_cache
def test_a_push_is_rendered_once_on_the_site(student, start_run, monkeypatch):
    """Two server processes woken by the same flush ask for the same push at once: one
    renders it, the other waits for that render in the shared cache."""
    run = start_run(student, num_steps=60)
    train_run(run.pk, "t")
    run.refresh_from_db()
    real, calls = page.render_push, []

    def slow_render(*args, **kwargs):
        calls.append(args[1])
        time.sleep(0.1)  # long enough for the other to ask meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(page, "render_push", slow_render)

    def as_a_process(_):
        try:
            return fanout.render_for(run.pk, run.last_seq - 6, steps=True, panels=True)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(as_a_process, range(2))
    assert calls == [run.last_seq - 6]
    assert first[:2] == second[:2] and 'id="run-current-step"' in first[1][0]
    assert sorted([first[4], second[4]]) == [False, True]  # one rendered, one was given it
    # a later push from elsewhere is its own render; the same one again is kept
    fanout.render_for(run.pk, run.last_seq - 3)
    fanout.render_for(run.pk, run.last_seq - 3)
    assert calls == [run.last_seq - 6, run.last_seq - 3]


def test_what_a_shared_render_is_keyed_by(student, start_run):
    run = start_run(student, num_steps=60)
    assert fanout.push_key(run, 3, True, False) is None  # queued: its place moves
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, last_seq=9)
    run.refresh_from_db()
    assert fanout.push_key(run, None, True, True) is None  # a newcomer's whole state
    key = fanout.push_key(run, 3, True, False)
    others = (fanout.push_key(run, 3, False, True), fanout.push_key(run, 4, True, False))
    assert key is not None and key not in others
    run.cancel_requested = True  # the status line says so, with no new event
    assert fanout.push_key(run, 3, True, False) != key


@needs_shared_cache
def test_a_push_never_waits_on_a_shared_cache_that_does_not_answer(settings):
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
    }}
    assert fanout.shared_render("push:1:2:10:x", lambda: "here") == ("here", False)


def test_without_redis_each_process_renders_its_own(settings):
    settings.REDIS_URL = ""
    calls = []
    for _ in range(2):
        fanout.shared_render("push:1:2:10:y", lambda: calls.append(1) or "html")
    assert len(calls) == 2


def test_the_panels_go_on_the_wall_clocks_ticks_in_every_process():
    """Two processes' audiences that last sent the panels at different moments meet on the
    same tick within two; a push on a tick is followed one interval later."""
    first, second = Audience.__new__(Audience), Audience.__new__(Audience)
    first.last_panels, second.last_panels = 100.3, 100.6
    assert (first.next_panels_tick(), second.next_panels_tick()) == (101.0, 102.0)
    first.last_panels = 101.02  # sent on its tick (a little after it)
    assert first.next_panels_tick() == second.next_panels_tick() == 102.0
    first.last_panels = 0.0  # never sent: at once
    assert first.next_panels_tick() <= time.time()
