"""The runs admin: instructors see the runs of their own classrooms' students, nothing else."""

import pytest
from django.urls import reverse

from classrooms.models import Classroom
from packs_app.models import Upload
from packs_app.sources import resolve_source
from runs.models import Run
from tests.runs.conftest import PACK_TEXT, TINY

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:runs_run_changelist")


def listed(client, user, query=""):
    client.force_login(user)
    response = client.get(CHANGELIST + query)
    assert response.status_code == 200
    return {run.pk for run in response.context["cl"].result_list}


def test_instructor_sees_their_students_runs_only(
    client, classroom, student, outsider, instructor, start_run
):
    mine = start_run(student)
    elsewhere = start_run(outsider)
    assert listed(client, instructor) == {mine.pk}
    assert elsewhere.pk not in listed(client, instructor, f"?classroom={classroom.pk}")


def test_another_instructor_sees_none_of_them(client, classroom, student, make_user, start_run):
    start_run(student)
    stranger = make_user("stranger", instructor=True)
    Classroom.objects.create(name="Elsewhere", instructor=stranger)
    assert listed(client, stranger) == set()


def test_filter_by_status_and_classroom(client, classroom, student, instructor, start_run):
    run = start_run(student)
    assert listed(client, instructor, "?status=queued") == {run.pk}
    assert listed(client, instructor, "?status=completed") == set()


def test_superuser_sees_everything(client, classroom, student, outsider, start_run, make_user):
    runs = {start_run(student).pk, start_run(outsider).pk}
    admin_user = make_user("root")
    admin_user.is_superuser = admin_user.is_staff = True
    admin_user.save()
    assert listed(client, admin_user) == runs


@pytest.mark.parametrize("who", ["student", "outsider"])
def test_students_cannot_open_the_runs_admin(client, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "login" in response.url


def test_runs_cannot_be_added_or_edited_in_the_admin(
    client, classroom, student, instructor, start_run
):
    run = start_run(student)
    client.force_login(instructor)
    assert client.get(reverse("admin:runs_run_add")).status_code == 403
    page = client.get(reverse("admin:runs_run_change", args=[run.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_the_classroom_filter_is_the_runs_own_classroom(
    client, classroom, student, instructor, start_run
):
    """A member's private run (classroom "-") is not a run of the classroom."""
    shared = start_run(student, classroom=classroom)
    start_run(student)  # private
    assert listed(client, instructor, f"?classroom={classroom.pk}") == {shared.pk}


def test_search_matches_the_upload_name(client, classroom, student, instructor, start_run):
    upload, _ = Upload.objects.store(PACK_TEXT, student, "my-sums.txt")
    on_upload = Run.objects.start(student, resolve_source(upload.ref, student), TINY)
    start_run(student)
    assert listed(client, instructor, "?q=my-sums") == {on_upload.pk}


def test_final_loss_shows_three_decimals(client, classroom, student, instructor, start_run):
    run = start_run(student)
    Run.objects.filter(pk=run.pk).update(final_loss=0.21876087933778762)
    client.force_login(instructor)
    body = client.get(CHANGELIST).content.decode()
    assert '<td class="field-loss">0.219</td>' in body
    assert "0.2187" not in body
