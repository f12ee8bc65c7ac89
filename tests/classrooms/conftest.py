"""A classroom taught by `instructor` with `student` and `classmate` in it; `other_instructor`
teaches another classroom; `outsider` is in none. Runs are made directly (no training): a
run with a stored loss curve is what the panel reads."""

import math

import pytest

from classrooms.models import Classroom
from runs.models import Kind, Run


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The people of tests/conftest.py are made with a cheap hasher here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def classroom(instructor, student, classmate):
    room = Classroom.objects.create(name="Lesson 1", instructor=instructor)
    room.join(student)
    room.join(classmate)
    return room


@pytest.fixture
def other_instructor(make_user):
    return make_user("other_instructor", instructor=True)


@pytest.fixture
def other_classroom(other_instructor):
    return Classroom.objects.create(name="Another lesson", instructor=other_instructor)


CONFIG = {
    "n_embd": 16,
    "n_head": 2,
    "n_layer": 1,
    "block_size": 16,
    "num_steps": 200,
    "learning_rate": 0.01,
    "seed": 1,
    "temperature": 0.5,
    "top_k": 5,
    "sample_count": 2,
    "sample_interval": 50,
}


def make_run(owner, *, losses=(), status=Run.Status.RUNNING, classroom=None, vocab="abc"):
    """A run whose steps 1..len(losses) are stored with these losses."""
    run = Run.objects.create(
        owner=owner,
        config=CONFIG,
        num_steps=CONFIG["num_steps"],
        status=status,
        classroom=classroom,
        vocab=vocab,
    )
    events = [(Kind.STEP, i + 1, {"step": i + 1, "loss": loss}) for i, loss in enumerate(losses)]
    if events:
        run.append_events(events, current_step=len(losses))
    if status == Run.Status.COMPLETED and losses:
        Run.objects.filter(pk=run.pk).update(final_loss=losses[-1])
        run.refresh_from_db()
    return run


def falling(n, start=3.0, end=1.0):
    return [start + (end - start) * i / max(n - 1, 1) for i in range(n)]


@pytest.fixture
def baseline():
    return math.log(4)
