"""The lesson pieces rendered with their pages (no slot filled after the page loads): the
panel's lesson section, a student's lessons on the classroom page, a run's challenge
banner; each the same HTML its socket pushes later."""

import pytest
from django.urls import reverse

from classrooms.consumers import BLANKS
from lessons.consumers import LessonPanelConsumer, RunChallengeConsumer
from lessons.models import StepRun
from tests.lessons.test_checking import stored_run


@pytest.fixture
def step_run(starters, assign, student):
    assignment = assign(starters["loss-curve"])
    run = stored_run(student, [2.0] * 25)
    return StepRun.link(assignment, assignment.lesson.steps.get(position=2), student, run)


def flat(html):
    return BLANKS.sub("\n", html).replace(' hx-swap-oob="true"', "")


def test_the_panel_page_has_the_lessons_matrix_as_its_socket_pushes_it(
    client, instructor, classroom, step_run
):
    client.force_login(instructor)
    page = client.get(reverse("classrooms:detail", args=[classroom.pk])).content.decode()
    assert "lessons-slot" not in page
    assert f'ws-connect="/ws/lessons/classrooms/{classroom.pk}/"' in page
    assert 'id="assign-lesson"' in page and "What a loss curve says (starter)" in page
    socket = LessonPanelConsumer()
    socket.classroom_id = classroom.pk
    pushed = flat(socket.render())
    assert 'tr data-student="student"' in pushed and 'data-state="running"' in pushed
    assert pushed.strip() in flat(page)


def test_the_student_page_has_the_lessons_with_its_dots(client, student, classroom, step_run):
    client.force_login(student)
    page = client.get(reverse("classrooms:detail", args=[classroom.pk])).content.decode()
    assert "lessons-slot" not in page
    assert 'id="classroom-lessons"' in page and "What a loss curve says" in page
    assert 'class="dot dot-running" title="Step 2: running"' in page


def test_the_run_page_has_its_challenge_banner_as_its_socket_pushes_it(
    client, student, instructor, step_run
):
    socket = RunChallengeConsumer()
    socket.run_id = step_run.run_id
    pushed = flat(socket.render())
    assert "Checking while it trains" in pushed
    for user in (student, instructor):
        client.force_login(user)
        page = client.get(reverse("runs:detail", args=[step_run.run_id])).content.decode()
        assert pushed.strip() in flat(page), user
        assert f'ws-connect="/ws/lessons/runs/{step_run.run_id}/"' in page
    plain = stored_run(student, [2.0] * 5)
    client.force_login(student)
    page = client.get(reverse("runs:detail", args=[plain.pk])).content.decode()
    assert 'id="lesson-challenge"' not in page
