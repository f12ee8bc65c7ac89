"""Fixtures for the runs tests: a tiny pack that trains in a blink, runs started through
the real code path, and a classroom that links the four people of tests/conftest.py."""

import pytest

from classrooms.models import Classroom, Membership
from packs_app.models import Pack
from packs_app.sources import resolve_source
from runs.models import Run

# A model so small that a few dozen steps take a few milliseconds.
TINY = {
    "n_embd": 8,
    "n_head": 2,
    "n_layer": 1,
    "block_size": 16,
    "num_steps": 30,
    "learning_rate": 0.01,
    "temperature": 0.5,
    "seed": 7,
    "sample_count": 3,
    "sample_interval": 10,
    "top_k": 3,
}
PACK_TEXT = "\n".join(f"{a}+{b}={a + b}" for a in range(10) for b in range(10))


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The people of tests/conftest.py are made with a cheap hasher here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def pack(db):
    return Pack.objects.create(
        slug="tiny-sums",
        title="Tiny sums",
        teaches="Single-digit addition.",
        text=PACK_TEXT,
        recommended_config=TINY,
        adherence_pattern=r"\d\+\d=\d+",
        builtin=True,
    )


@pytest.fixture
def start_run(pack):
    """start_run(owner, **config overrides) -> a queued Run, as the new-run view makes it."""

    def start(owner, classroom=None, **overrides):
        source = resolve_source(pack.slug, owner)
        return Run.objects.start(owner, source, {**TINY, **overrides}, classroom=classroom)

    return start


@pytest.fixture
def classroom(student, classmate, instructor):
    """Taught by `instructor`; `student` and `classmate` are members, `outsider` is not."""
    room = Classroom.objects.create(name="Period 3", instructor=instructor)
    Membership.objects.create(classroom=room, student=student)
    Membership.objects.create(classroom=room, student=classmate)
    return room
