"""The classroom sockets through the real ASGI application (origin check, session auth,
routing): /ws/classrooms/<id>/ for the classroom's instructor only, and
/ws/classrooms/<id>/spotlight/ for the instructor and the class, following the choice."""

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import OperationalError
from django.test import Client

from classrooms.live import classroom_group
from classrooms.spotlight import SharedStage
from common.sockets import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from runs.fanout import Audience
from runs.models import Kind, run_group
from tests.classrooms.conftest import falling, make_run
from tests.sockets import first_message, socket_for

# transaction=True: channels closes a connection left inside a transaction (PostgreSQL)
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


async def receive_until(socket, text, seconds=5):
    """Text messages until one contains `text` (fails after `seconds`)."""
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        if not await socket.receive_nothing(timeout=0.05, interval=0.01):
            message = await socket.receive_from()
            seen.append(message)
            if text in message:
                return message
    raise AssertionError(f"no message with {text!r} in {seconds}s; got {len(seen)} others")


def panel_path(classroom):
    return f"/ws/classrooms/{classroom.pk}/"


def spotlight_path(classroom):
    return f"/ws/classrooms/{classroom.pk}/spotlight/"


def test_the_instructor_gets_the_whole_panel_on_connect(client, instructor, classroom, student):
    make_run(student, losses=falling(12))
    first = first_message(client, instructor, panel_path(classroom))
    assert first["type"] == "websocket.send"
    html = first["text"]
    for part in ('id="roster"', 'id="overlay"', 'id="funnel"', 'hx-swap-oob="true"'):
        assert part in html
    assert "student" in html
    # a pushed fragment cannot carry a CSRF token: its POSTs go through htmx, whose header
    # comes from the page's <body hx-headers>
    assert 'method="post"' not in html
    assert "\n " not in html and "\n\n" not in html  # sent without the template's indentation
    assert 'hx-post="/classrooms/' in html and ">Remove student</button>" in html


@pytest.mark.parametrize(
    "who, code",
    [
        ("student", CLOSE_FORBIDDEN),
        ("classmate", CLOSE_FORBIDDEN),
        ("other_instructor", CLOSE_FORBIDDEN),
        ("outsider", CLOSE_FORBIDDEN),
        ("anonymous", CLOSE_UNAUTHENTICATED),
    ],
)
def test_everyone_else_is_refused_the_panel(client, request, classroom, other_classroom, who, code):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    first = first_message(client, user, panel_path(classroom))
    assert first == {"type": "websocket.close", "code": code}


@pytest.mark.parametrize(
    "who, code",
    [
        ("other_instructor", CLOSE_FORBIDDEN),
        ("outsider", CLOSE_FORBIDDEN),
        ("anonymous", CLOSE_UNAUTHENTICATED),
    ],
)
def test_strangers_are_refused_the_spotlight(
    client, request, classroom, other_classroom, who, code
):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    first = first_message(client, user, spotlight_path(classroom))
    assert first == {"type": "websocket.close", "code": code}


def test_unknown_classroom_is_forbidden(client, instructor):
    first = first_message(client, instructor, "/ws/classrooms/999999/")
    assert first == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


def test_the_panel_follows_a_students_run_live(client, instructor, classroom, student):
    run = make_run(student, losses=falling(5, 3.0, 2.5))
    open_socket = socket_for(client, instructor, panel_path(classroom))

    async def scenario():
        socket = open_socket()
        await socket.connect()
        await receive_until(socket, ">5/200<")
        # the trainer stores steps, then wakes the run's group (the panel joined it)
        events = [(Kind.STEP, i, {"step": i, "loss": 1.234}) for i in range(6, 41)]
        await database_sync_to_async(run.append_events)(events, current_step=40)
        await get_channel_layer().group_send(run_group(run.pk), {"type": "run.wake"})
        html = await receive_until(socket, ">40/200<")
        assert ">1.234<" in html  # the smoothed loss: the mean of its last steps
        # a new run starts: the hint makes the panel watch it at once
        new = await database_sync_to_async(make_run)(student, losses=falling(3))
        await get_channel_layer().group_send(
            classroom_group(classroom.pk), {"type": "classroom.changed", "change": "runs"}
        )
        await receive_until(socket, f'id="result-run-{new.pk}"')
        events = [(Kind.STEP, 4, {"step": 4, "loss": 0.777})]
        await database_sync_to_async(new.append_events)(events, current_step=4)
        await get_channel_layer().group_send(run_group(new.pk), {"type": "run.wake"})
        await receive_until(socket, ">1.694<")  # mean of 3, 2, 1 and 0.777
        await socket.disconnect()

    async_to_sync(scenario)()


def test_wake_ups_are_coalesced(client, instructor, classroom, student):
    run = make_run(student, losses=falling(5))
    open_socket = socket_for(client, instructor, panel_path(classroom))

    async def scenario():
        socket = open_socket()
        await socket.connect()
        await socket.receive_from()
        layer = get_channel_layer()
        started = time.monotonic()
        for _ in range(50):
            await layer.group_send(run_group(run.pk), {"type": "run.wake"})
        pushes = 0
        while time.monotonic() - started < 1.2:
            if not await socket.receive_nothing(timeout=0.05, interval=0.01):
                await socket.receive_from()
                pushes += 1
        await socket.disconnect()
        return pushes

    pushes = async_to_sync(scenario)()
    assert 1 <= pushes <= 3


async def stored_when_unlocked(write, *args, **kwargs):
    """`write` from the test while the page's sockets may still be reading their first
    renders: the embedded pass's in-memory SQLite (shared between threads) answers "table is
    locked" to a write beside a read, where PostgreSQL or a file database would wait."""
    for _ in range(40):
        try:
            return await database_sync_to_async(write)(*args, **kwargs)
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            await asyncio.sleep(0.05)
    return await database_sync_to_async(write)(*args, **kwargs)


def test_the_spotlight_follows_the_instructors_choice(
    client, instructor, classroom, student, classmate
):
    first_run = make_run(student, losses=falling(5), classroom=classroom)
    second_run = make_run(classmate, losses=falling(8), classroom=classroom)
    classroom.spotlight(first_run)
    open_socket = socket_for(client, classmate, spotlight_path(classroom))

    async def scenario():
        socket = open_socket()
        await socket.connect()
        stage = await receive_until(socket, 'id="spotlight-stage"')
        assert f'data-run="{first_run.pk}"' in stage and 'id="loss-canvas"' in stage
        # the run trains on: its live partials follow
        events = [
            (
                Kind.STEP,
                6,
                {"step": 6, "loss": 0.5, "lr": 0.01, "grad_norms": {}, "update_norms": {}},
            )
        ]
        await stored_when_unlocked(first_run.append_events, events, current_step=6)
        await get_channel_layer().group_send(run_group(first_run.pk), {"type": "run.wake"})
        await receive_until(socket, 'id="run-current-step">6<')
        # the instructor switches: every spotlight page swaps the whole stage
        await stored_when_unlocked(classroom.spotlight, second_run)
        await get_channel_layer().group_send(
            classroom_group(classroom.pk), {"type": "classroom.changed", "change": "spotlight"}
        )
        stage = await receive_until(socket, 'id="spotlight-stage"')
        assert f'data-run="{second_run.pk}"' in stage
        await socket.disconnect()

    async_to_sync(scenario)()


def test_a_spotlighted_run_not_shared_is_not_sent_to_classmates(
    client, classroom, student, classmate
):
    private = make_run(student, losses=falling(5))
    classroom.spotlight(private)
    first = first_message(client, classmate, spotlight_path(classroom))
    assert "not shared with you" in first["text"]
    assert 'id="loss-canvas"' not in first["text"] and "run-series" not in first["text"]
    # the header names neither the run, its owner nor its text
    for leak in (f"run {private.pk}", "student ·", private.source_title):
        assert leak not in first["text"], leak


def test_a_removed_student_loses_the_spotlight_socket(client, classroom, classmate):
    # at once: the removal sends the sockets an access hint (the timer is 5 s)
    open_socket = socket_for(client, classmate, spotlight_path(classroom))

    async def scenario():
        socket = open_socket()
        await socket.connect()
        await receive_until(socket, 'id="spotlight-stage"')
        await database_sync_to_async(classroom.remove)(classmate)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            message = await socket.receive_output(timeout=5)
            if message["type"] == "websocket.close":
                return message
        raise AssertionError("the socket stayed open")

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


def test_the_spotlight_is_rendered_once_for_all_its_sockets(
    instructor, classroom, student, classmate
):
    """Nine projector pages (three people, three tabs each): one stage render on connect,
    one shared render per push of the run, one stage render when the instructor switches."""
    first_run = make_run(student, losses=falling(5), classroom=classroom)
    second_run = make_run(classmate, losses=falling(8), classroom=classroom)
    classroom.spotlight(first_run)
    openers = [
        socket_for(Client(), person, spotlight_path(classroom))
        for person in (instructor, student, classmate)
    ]

    async def scenario():
        stage_renders = SharedStage.renders
        sockets = [open_socket() for open_socket in openers for _ in range(3)]
        for socket in sockets:  # (timeouts for a busy machine)
            assert (await socket.connect(timeout=5))[0]
        for socket in sockets:
            stage = await receive_until(socket, "spotlight-stage", 10)
            assert f'data-run="{first_run.pk}"' in stage
        on_connect = SharedStage.renders - stage_renders
        audience = Audience.audiences[first_run.pk]
        assert len(audience.viewers) == len(sockets)
        await asyncio.sleep(0.3)  # the joins' own pushes are done
        renders = audience.renders
        events = [(Kind.STEP, 6, {"step": 6, "loss": 0.5, "lr": 0.01})]
        await database_sync_to_async(first_run.append_events)(events, current_step=6)
        await get_channel_layer().group_send(run_group(first_run.pk), {"type": "run.wake"})
        for socket in sockets:
            await receive_until(socket, 'id="run-current-step">6<', 10)
        per_push = audience.renders - renders
        stage_renders = SharedStage.renders
        await database_sync_to_async(classroom.spotlight)(second_run)
        await get_channel_layer().group_send(
            classroom_group(classroom.pk), {"type": "classroom.changed", "change": "spotlight"}
        )
        for socket in sockets:
            stage = await receive_until(socket, "spotlight-stage", 10)
            assert f'data-run="{second_run.pk}"' in stage
        on_switch = SharedStage.renders - stage_renders
        left_behind = first_run.pk in Audience.audiences
        for socket in sockets:
            await socket.disconnect()
        return on_connect, per_push, on_switch, left_behind

    on_connect, per_push, on_switch, left_behind = async_to_sync(scenario)()
    assert (on_connect, per_push, on_switch) == (1, 1, 1)
    assert not left_behind  # no socket still follows the run shown before
