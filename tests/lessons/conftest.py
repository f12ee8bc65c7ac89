"""A classroom taught by `instructor` with `student` and `classmate`; `other_instructor`
teaches another one with `other_student`; `outsider` is in none. The built-in packs and the
starter lessons are loaded as `manage.py load_packs` loads them; `assign` gives a lesson to
the classroom; `train_step` starts a step's prepared run through the real form and trains
it to its end in this thread."""

import pytest
from django.test import RequestFactory

from classrooms.models import Classroom
from lessons.models import Assignment, Lesson
from lessons.prepared import LessonAnswers
from lessons.starter import load as load_starters
from packs_app.models import Pack
from packs_app.sources import resolve_source
from runs.forms import NewRunForm
from runs.models import Run
from runs.training import train_run


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def packs(db):
    return {pack.slug: pack for pack, _ in Pack.objects.load_builtins()}


@pytest.fixture
def starters(packs):
    return {lesson.starter_key: lesson for lesson in load_starters(packs)}


@pytest.fixture
def classroom(instructor, student, classmate):
    room = Classroom.objects.create(name="Period 3", instructor=instructor)
    room.join(student)
    room.join(classmate)
    return room


@pytest.fixture
def other_instructor(make_user):
    return make_user("other_instructor", instructor=True)


@pytest.fixture
def other_student(make_user, other_instructor):
    user = make_user("other_student")
    room = Classroom.objects.create(name="Another class", instructor=other_instructor)
    room.join(user)
    return user


@pytest.fixture
def assign(classroom):
    def assign(lesson, room=None):
        return Assignment.objects.create(lesson=lesson, classroom=room or classroom)

    return assign


def prepared_config(user, classroom, step, **changes):
    """The config the prepared new-run form would post for `step` with `changes` typed in
    (locked fields cannot change), validated by the form itself."""
    prepared = LessonAnswers().prepared_step(user, classroom, step.pk)
    initial, source = NewRunForm.initial_for(user, step.source_ref, classroom, prepared.policy)
    data = {**initial, **changes, "classroom": classroom.pk}
    form = NewRunForm(user, data, classroom=classroom, policy=prepared.policy)
    assert form.is_valid(), form.errors
    return prepared, form


@pytest.fixture
def train_step(classroom):
    def train(user, step, room=None, **changes):
        room = room or classroom
        prepared, form = prepared_config(user, room, step, **changes)
        run = Run.objects.start(user, form.source, form.config, classroom=room)
        step_run = prepared.started(run)
        assert train_run(run.pk, "test-worker")
        step_run.refresh_from_db()
        run.refresh_from_db()
        return step_run

    return train


def lesson_factory(author, title="Lesson"):
    return Lesson.objects.create(title=title, author=author)


__all__ = ["RequestFactory", "resolve_source", "lesson_factory"]
