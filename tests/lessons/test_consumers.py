"""The lesson sockets through the real ASGI application: the panel's lesson section for the
classroom's instructor only, a run page's challenge banner for whoever may see the run;
both show "met at step k" live once the check (where events are stored) records it."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import Client

from common.sockets import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from lessons.models import StepRun
from runs.models import Kind, run_group
from runs.signals import announce_stored
from tests.classrooms.test_consumers import receive_until
from tests.lessons.test_checking import stored_run
from tests.sockets import first_message, socket_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


@pytest.fixture
def step_run(starters, assign, student):
    assignment = assign(starters["loss-curve"])
    run = stored_run(student, [2.0] * 25)
    return StepRun.link(assignment, assignment.lesson.steps.get(position=2), student, run)


def panel_path(classroom):
    return f"/ws/lessons/classrooms/{classroom.pk}/"


def run_path(run):
    return f"/ws/lessons/runs/{run.pk}/"


@pytest.mark.parametrize(
    "who, code",
    [("student", CLOSE_FORBIDDEN), ("other_student", CLOSE_FORBIDDEN),
     ("other_instructor", CLOSE_FORBIDDEN), ("outsider", CLOSE_FORBIDDEN),
     ("anonymous", CLOSE_UNAUTHENTICATED)],
)
def test_only_the_instructor_gets_the_lesson_panel(client, request, classroom, step_run, who,
                                                   code):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    assert first_message(client, user, panel_path(classroom)) == {
        "type": "websocket.close", "code": code}


@pytest.mark.parametrize(
    "who, code",
    [("other_student", CLOSE_FORBIDDEN), ("other_instructor", CLOSE_FORBIDDEN),
     ("outsider", CLOSE_FORBIDDEN), ("anonymous", CLOSE_UNAUTHENTICATED)],
)
def test_strangers_are_refused_a_runs_banner(client, request, step_run, who, code):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    assert first_message(client, user, run_path(step_run.run)) == {
        "type": "websocket.close", "code": code}


def test_owner_and_instructor_get_the_banner(client, step_run, student, instructor):
    for user in (student, instructor):
        first = first_message(client, user, run_path(step_run.run))
        assert 'id="lesson-challenge"' in first["text"] and "hx-swap-oob" in first["text"]


def test_met_shows_live_on_the_panel_and_the_run_page(client, instructor, student, classroom,
                                                      step_run):
    run = step_run.run
    panel = socket_for(client, instructor, panel_path(classroom))
    page = socket_for(Client(), student, run_path(run))  # a second browser: its own session

    async def scenario():
        on_panel, on_page = panel(), page()
        await on_panel.connect()
        await on_page.connect()
        await receive_until(on_panel, 'data-state="running"')
        await receive_until(on_page, "Checking while it trains")
        # the trainer stores steps, the hook checks, then the run's group is woken
        events = [(Kind.STEP, i, {"step": i, "loss": 1.0}) for i in range(26, 61)]

        def store():
            run.append_events(events, current_step=60)
            announce_stored(run)

        await database_sync_to_async(store)()
        await get_channel_layer().group_send(run_group(run.pk), {"type": "run.wake"})
        # smoothed (20 steps) ≤ 1.2 first at step 41: (4 × 2.0 + 16 × 1.0) / 20 = 1.2
        await receive_until(on_page, "Challenge met at step 41 ✓")
        await receive_until(on_panel, "met at step 41")
        await on_panel.disconnect()
        await on_page.disconnect()

    async_to_sync(scenario)()


def test_the_instructor_gets_the_matrix(client, instructor, classroom, step_run):
    first = first_message(client, instructor, panel_path(classroom))
    assert 'id="lesson-matrices"' in first["text"], first


def test_a_verdict_without_a_wake_up_still_reaches_the_panel(client, instructor, classroom,
                                                             step_run, monkeypatch):
    """A run that starts and ends between two refreshes is never watched by the panel, so
    its wake-ups never reach it: the refresh timer sees the count of verdicts move."""
    from lessons.consumers import LessonPanelConsumer

    monkeypatch.setattr(LessonPanelConsumer, "refresh_interval", 0.2)
    panel = socket_for(client, instructor, panel_path(classroom))

    async def scenario():
        on_panel = panel()
        await on_panel.connect()
        await receive_until(on_panel, 'data-state="running"')

        def decide():  # as the check records it, but no run.wake follows
            StepRun.objects.filter(pk=step_run.pk).update(verdict="met", met_at_step=41)

        await database_sync_to_async(decide)()
        await receive_until(on_panel, "met at step 41", seconds=3)
        await on_panel.disconnect()

    async_to_sync(scenario)()
