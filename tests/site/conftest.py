"""The site-wide fixtures: a small world of a student's run, classroom and upload."""

import pytest

from classrooms.models import Classroom, Membership
from lessons.models import Assignment, Lesson, Step
from packs_app.models import Pack, Upload
from packs_app.sources import resolve_source
from runs.models import Run
from runs.training import train_run
from tests.runs.conftest import PACK_TEXT, TINY


@pytest.fixture
def world(student, instructor):
    """A finished run of `student`'s, in `instructor`'s classroom, and an upload of theirs."""
    classroom = Classroom.objects.create(name="Period 3", instructor=instructor)
    Membership.objects.create(classroom=classroom, student=student)
    pack = Pack.objects.create(slug="sums", title="Sums", teaches="-", text=PACK_TEXT, builtin=True)
    run = Run.objects.start(student, resolve_source(pack.slug, student), TINY)
    assert train_run(run.pk, "test-worker")
    upload, _ = Upload.objects.store("ada\nalan\n", student, "names.txt")
    lesson = Lesson.objects.create(title="Loss", author=instructor)
    lesson_step = Step.objects.create(lesson=lesson, position=1, title="Go", instructions="Go",
                                      pack=pack, reflection="Why?")
    assignment = Assignment.objects.create(lesson=lesson, classroom=classroom)
    return {
        "run_id": run.pk,
        "step": Run.objects.get(pk=run.pk).snapshot_steps()[0],
        "pos": 0,
        "node_id": 0,
        "name": "wte",
        "text": "1+1",  # the playground's own text in the op view
        "classroom_id": classroom.pk,
        "student_id": student.pk,
        "upload_id": upload.pk,
        "lesson_id": lesson.pk,
        "step_id": lesson_step.pk,
        "assignment_id": assignment.pk,
    }
