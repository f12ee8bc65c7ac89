import pytest
from django.urls import reverse

from classrooms import funnel
from classrooms.models import FunnelEvent
from common.funnel import OPENED_OP_VIEW, UPLOADED_TEXT, record
from packs_app.models import Upload
from runs.models import Run
from tests.classrooms.conftest import falling, make_run

pytestmark = pytest.mark.django_db


def counts(classroom):
    return dict(funnel.counts(classroom))


def test_funnel_counts_each_stage_for_the_current_students(classroom, student, classmate, outsider):
    assert counts(classroom) == {
        "joined": 2,
        "started a first run": 0,
        "a run completed": 0,
        "opened the op-level view": 0,
        "uploaded their own text": 0,
    }
    make_run(student, losses=falling(5))
    make_run(student, losses=falling(5))
    make_run(classmate, losses=falling(5), status=Run.Status.COMPLETED)
    make_run(outsider, status=Run.Status.COMPLETED)  # not in the classroom
    record(student, OPENED_OP_VIEW)
    record(student, OPENED_OP_VIEW)  # once per person
    record(outsider, OPENED_OP_VIEW)
    upload = Upload.objects.create(id="h" * 64, text="hello")
    upload.owners.add(classmate, outsider)
    assert counts(classroom) == {
        "joined": 2,
        "started a first run": 2,
        "a run completed": 1,
        "opened the op-level view": 1,
        "uploaded their own text": 1,
    }
    assert FunnelEvent.objects.filter(user=student).count() == 1


def test_record_ignores_anonymous_and_rejects_unknown_stages(student):
    from django.contrib.auth.models import AnonymousUser

    record(AnonymousUser(), OPENED_OP_VIEW)
    assert not FunnelEvent.objects.exists()
    with pytest.raises(ValueError):
        record(student, "bogus")


def test_recorded_uploads_count_too(classroom, student):
    record(student, UPLOADED_TEXT)
    assert counts(classroom)["uploaded their own text"] == 1


def test_the_panel_shows_the_funnel(client, instructor, classroom, student):
    make_run(student, losses=falling(5))
    client.force_login(instructor)
    body = client.get(reverse("classrooms:funnel", args=[classroom.pk])).content.decode()
    assert "started a first run" in body and '<span class="count">1</span>' in body
