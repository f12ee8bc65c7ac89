"""An open run socket keeps checking its viewer's access (common/sockets.py): at once
when a student leaves or is removed from the classroom (a hint), and on a timer for any
other change; and one user may open only LAB_MAX_SOCKETS_PER_USER sockets."""

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.test import Client

from common.sockets import CLOSE_FORBIDDEN, CLOSE_TOO_MANY, CoalescingConsumer
from runs.models import Run
from tests.sockets import socket_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def run_path(run):
    return f"/ws/runs/{run.pk}/"


async def closed_within(socket, seconds):
    """The close message if the server closes the socket within `seconds`, else None; the
    pushes on the way are counted."""
    deadline, pushes = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        if await socket.receive_nothing(timeout=0.05, interval=0.01):
            continue
        message = await socket.receive_output(timeout=1)
        if message["type"] == "websocket.close":
            return message, pushes
        pushes += 1
    return None, pushes


def watch_until_closed(client, user, run, change, seconds):
    open_socket = socket_for(client, user, run_path(run))

    async def scenario():
        socket = open_socket()
        connected, _ = await socket.connect()
        assert connected
        await socket.receive_output(timeout=5)  # the full state
        await database_sync_to_async(change)()
        closed, _ = await closed_within(socket, seconds)
        await socket.disconnect()
        return closed

    return async_to_sync(scenario)()


def test_a_removed_classmate_is_closed_at_once(client, student, classmate, classroom, start_run):
    run = start_run(student, classroom=classroom)  # shared with the class
    closed = watch_until_closed(client, classmate, run, lambda: classroom.remove(classmate), 2)
    assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


def test_the_instructor_loses_a_removed_students_run(
    client, student, instructor, classroom, start_run
):
    run = start_run(student)
    closed = watch_until_closed(client, instructor, run, lambda: classroom.remove(student), 2)
    assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


def test_other_changes_are_caught_by_the_timer(
    client, student, classmate, classroom, start_run, monkeypatch
):
    """A change that sends no hint (here a direct update) still closes the socket."""
    monkeypatch.setattr(CoalescingConsumer, "access_interval", 0.3)
    run = start_run(student, classroom=classroom)

    def unshare():
        Run.objects.filter(pk=run.pk).update(classroom=None)

    closed = watch_until_closed(client, classmate, run, unshare, 3)
    assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


def test_access_kept_keeps_the_socket(
    client, student, classmate, classroom, start_run, monkeypatch
):
    monkeypatch.setattr(CoalescingConsumer, "access_interval", 0.2)
    run = start_run(student, classroom=classroom)
    assert watch_until_closed(client, classmate, run, lambda: None, 1) is None


def test_one_user_may_open_only_so_many_sockets(client, student, start_run, settings):
    settings.LAB_MAX_SOCKETS_PER_USER = 3
    run = start_run(student)
    open_socket = socket_for(client, student, run_path(run))

    async def scenario():
        sockets = [open_socket() for _ in range(4)]
        firsts = []
        for socket in sockets:
            assert (await socket.connect())[0]
            firsts.append(await socket.receive_output(timeout=5))
        await sockets[0].disconnect()  # one closed: room for another
        again = open_socket()
        await again.connect()
        after = await again.receive_output(timeout=5)
        for socket in [*sockets[1:], again]:
            await socket.disconnect()
        return firsts, after

    firsts, after = async_to_sync(scenario)()
    assert [m["type"] for m in firsts[:3]] == ["websocket.send"] * 3
    assert firsts[3] == {"type": "websocket.close", "code": CLOSE_TOO_MANY}
    assert after["type"] == "websocket.send"


def test_a_run_pages_sockets_are_checked_together_on_the_timer(
    client, student, classmate, instructor, classroom, start_run, monkeypatch
):
    """The run's audience checks every socket's access in one read per interval (not one
    per socket); an unshared run closes the classmates' sockets, the owner's and the
    instructor's stay open."""
    from runs import fanout
    from runs.fanout import Audience

    monkeypatch.setattr(CoalescingConsumer, "access_interval", 0.3)
    run = start_run(student, classroom=classroom)
    reads, real = [], fanout.who_may_view

    def counted(run_id, user_ids):
        reads.append(set(user_ids))
        return real(run_id, user_ids)

    monkeypatch.setattr(fanout, "who_may_view", counted)
    people = [student, classmate, instructor] * 4
    # a client each: one client's second login would end its first session
    openers = {person.pk: socket_for(Client(), person, run_path(run)) for person in people[:3]}

    async def scenario():
        sockets = [openers[person.pk]() for person in people]
        for socket in sockets:
            assert (await socket.connect())[0]
            assert (await socket.receive_output(timeout=5))["type"] == "websocket.send"
        audience = Audience.audiences[run.pk]
        checks_before = audience.access_checks
        await asyncio.sleep(1.0)
        checks_before = audience.access_checks - checks_before
        await database_sync_to_async(
            lambda: Run.objects.filter(pk=run.pk).update(classroom=None)
        )()
        closed = await asyncio.gather(*(closed_within(socket, 2) for socket in sockets))
        for socket in sockets:
            await socket.disconnect()
        return checks_before, closed

    checks_before, closed = async_to_sync(scenario)()
    assert 2 <= checks_before <= 4  # one a 0.3 s over 1 s, for all 12 sockets
    everyone = {student.pk, classmate.pk, instructor.pk}
    assert everyone in reads and all(ids <= everyone for ids in reads)  # each user once
    codes = [message and message["code"] for message, _ in closed]
    for person, code in zip(people, codes, strict=True):
        assert code == (CLOSE_FORBIDDEN if person == classmate else None), person
