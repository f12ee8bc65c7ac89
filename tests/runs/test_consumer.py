"""The run socket /ws/runs/<id>/ through the real ASGI application (origin check, session
auth, routing): who may connect, the full state on (re)connect, live pushes coalesced to
about ten a second, and a last push after the terminal event."""

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from common.sockets import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from microlab_site.asgi import application
from runs.models import run_group
from runs.training import train_run
from tests.sockets import first_message, socket_for

# Transactional: the consumer's database_sync_to_async closes connections that sit in a
# transaction (PostgreSQL), so each query must see committed data.
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def run_path(run):
    return f"/ws/runs/{run.pk}/"


def run_async(coroutine_function):
    """Run an async scenario; its sync_to_async calls come back to this thread."""
    return async_to_sync(coroutine_function)()


async def drain(socket, seconds, until=None):
    """Every text message that arrives within `seconds` (or up to one containing `until`),
    with its arrival time."""
    received, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and received and until in received[-1][1]):
        # receive_nothing leaves the app running; a receive_from timeout would cancel it
        if not await socket.receive_nothing(timeout=0.02, interval=0.005):
            received.append((time.monotonic(), await socket.receive_from()))
    return received


@pytest.mark.parametrize("who", ["owner", "instructor", "classmate"])
def test_who_may_watch_gets_the_full_state(
    client, student, instructor, classmate, classroom, start_run, who
):
    run = start_run(student, classroom=classroom)  # shared with the classroom
    user = {"owner": student, "instructor": instructor, "classmate": classmate}[who]
    first = first_message(client, user, run_path(run))
    assert first["type"] == "websocket.send"
    html = first["text"]
    assert 'id="run-status"' in html and 'hx-swap-oob="true"' in html
    assert 'data-status="queued"' in html


@pytest.mark.parametrize(
    "who, code",
    [
        ("anonymous", CLOSE_UNAUTHENTICATED),
        ("outsider", CLOSE_FORBIDDEN),
        ("unshared classmate", CLOSE_FORBIDDEN),
    ],
)
def test_others_are_closed_with_a_code(
    client, student, classmate, outsider, classroom, start_run, who, code
):
    run = start_run(student)  # not shared
    user = {"anonymous": None, "outsider": outsider, "unshared classmate": classmate}[who]
    first = first_message(client, user, run_path(run))
    assert first == {"type": "websocket.close", "code": code}


def test_unknown_run_is_forbidden(client, student, start_run):
    run = start_run(student)
    run.pk = 999_999
    assert first_message(client, student, run_path(run))["code"] == CLOSE_FORBIDDEN


def test_live_pushes_while_training_and_a_last_push_after_the_end(client, student, start_run):
    run = start_run(student, num_steps=300, sample_count=0)
    open_socket = socket_for(client, student, run_path(run))

    async def scenario():
        socket = open_socket()
        assert (await socket.connect())[0]
        first = await socket.receive_from(timeout=5)
        train = asyncio.ensure_future(database_sync_to_async(train_run)(run.pk, "t"))
        pushes = await drain(socket, 15, until='data-status="completed"')
        await train
        await socket.disconnect()
        return first, pushes

    first, pushes = run_async(scenario)
    assert 'data-status="queued"' in first
    assert pushes, "no live push arrived"
    assert 'data-status="completed"' in pushes[-1][1]


def test_wake_ups_are_coalesced_to_ten_a_second(client, student, start_run):
    """200 wake-ups over about a second: about ten pushes, not 200, and one after the last."""
    run = start_run(student)
    open_socket = socket_for(client, student, run_path(run))

    async def scenario():
        socket = open_socket()
        assert (await socket.connect())[0]
        await socket.receive_from(timeout=5)
        layer = get_channel_layer()
        started = time.monotonic()
        for _ in range(200):
            await layer.group_send(run_group(run.pk), {"type": "run.wake"})
            await asyncio.sleep(0.005)
        last_wake = time.monotonic()
        pushes = await drain(socket, 0.5)
        await socket.disconnect()
        return started, last_wake, pushes

    started, last_wake, pushes = run_async(scenario)
    window = pushes[-1][0] - started
    assert 3 <= len(pushes) <= 1 + window / 0.1
    assert pushes[-1][0] > last_wake


def test_reconnect_replays_the_full_state(client, student, start_run):
    run = start_run(student, num_steps=20, sample_interval=10)
    train_run(run.pk, "t")
    open_socket = socket_for(client, student, run_path(run))

    async def connect_once():
        socket = open_socket()
        assert (await socket.connect())[0]
        html = await socket.receive_from(timeout=5)
        await socket.disconnect()
        return html

    first = run_async(connect_once)
    again = run_async(connect_once)
    for html in (first, again):
        assert 'data-status="completed"' in html
        assert 'id="run-series"' in html or "series" in html
    assert first.count("hx-swap-oob") == again.count("hx-swap-oob") >= 3


@pytest.mark.parametrize("origin", [b"http://evil.example", None])
def test_a_socket_from_another_site_is_refused_before_any_data(client, student, start_run, origin):
    run = start_run(student)
    client.force_login(student)
    headers = [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    if origin:
        headers.append((b"origin", origin))

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/", headers=headers)
        connected, _ = await socket.connect()
        await socket.disconnect()
        return connected

    assert run_async(scenario) is False
