"""runs.permissions.who_may_view, the socket timer's check of many viewers at once, gives
the same answer as can_view asked one viewer at a time."""

import pytest
from django.contrib.auth.models import AnonymousUser

from classrooms.models import Classroom, Membership
from runs.models import Run
from runs.permissions import can_view, who_may_view

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(student, classmate, instructor, outsider, make_user, classroom):
    other_teacher = make_user("other-teacher", instructor=True)
    Classroom.objects.create(name="Period 5", instructor=other_teacher)
    # the owner in a second class: its instructor sees all the owner's runs
    second_teacher = make_user("second-teacher", instructor=True)
    second = Classroom.objects.create(name="Period 6", instructor=second_teacher)
    Membership.objects.create(classroom=second, student=student)
    admin = make_user("admin")
    admin.is_superuser = True
    admin.save()
    return [student, classmate, instructor, outsider, other_teacher, second_teacher, admin]


def one_at_a_time(run, users):
    run = Run.objects.select_related("owner").get(pk=run.pk)
    return {user.pk for user in users if can_view(user, run)}


@pytest.mark.parametrize("shared", [False, True])
def test_the_same_answer_as_can_view_for_each(people, classroom, start_run, shared):
    student = people[0]
    run = start_run(student, classroom=classroom if shared else None)
    anyone, ids = who_may_view(run.pk, {user.pk for user in people})
    assert not anyone
    assert ids == one_at_a_time(run, people)
    expected = {"student", "instructor", "second-teacher", "admin"} | (
        {"classmate"} if shared else set()
    )
    assert {user.username for user in people if user.pk in ids} == expected


def test_after_a_change_the_answer_follows(people, classroom, start_run):
    student, classmate = people[:2]
    run = start_run(student, classroom=classroom)
    Run.objects.filter(pk=run.pk).update(classroom=None)
    classroom.remove(student)
    _, ids = who_may_view(run.pk, {user.pk for user in people})
    assert ids == one_at_a_time(run, people)
    assert classmate.pk not in ids and people[2].pk not in ids  # nor its instructor


def test_a_showcase_run_is_anyones(people, start_run):
    run = start_run(people[0])
    Run.objects.filter(pk=run.pk).update(showcase=True)
    run.refresh_from_db()
    assert can_view(AnonymousUser(), run)
    anyone, ids = who_may_view(run.pk, {user.pk for user in people})
    assert anyone and ids == {user.pk for user in people}


def test_a_run_that_is_gone_is_nobodys(people, start_run):
    run = start_run(people[0])
    run_id = run.pk
    run.delete()
    assert who_may_view(run_id, {user.pk for user in people}) == (False, set())


def test_two_queries_however_many_viewers(people, classroom, start_run, django_assert_num_queries):
    run = start_run(people[0], classroom=classroom)
    with django_assert_num_queries(2):
        who_may_view(run.pk, {user.pk for user in people})
