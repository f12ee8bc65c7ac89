"""The results table (classrooms/results.py), the student page and the spotlight's
private-run rule."""

import re
import statistics
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from classrooms import flags, panel, results
from notices.models import Notice
from runs.models import Kind, Run
from tests.classrooms.conftest import falling, make_run

pytestmark = pytest.mark.django_db


def table_of(classroom):
    return results.table(classroom, panel.roster(classroom))


def test_each_run_has_its_figures(classroom, student, classmate):
    losses = falling(40)
    run = make_run(student, losses=losses, classroom=classroom)
    run.append_events(
        [(Kind.SAMPLES, 40, {"texts": ["a", "b", "c"], "follows": [True, False, True]})]
    )
    run.append_events([("eval", 40, {"val_loss": 1.25})])
    private = make_run(student, losses=falling(5))
    rows = {r.run.pk: r for r in table_of(classroom) if r.run}
    row = rows[run.pk]
    assert row.smoothed_loss == pytest.approx(statistics.mean(losses[-flags.WINDOW :]))
    assert row.validation_loss == 1.25
    assert row.template_share == (2, 3) and row.template_percent == 67
    assert row.private is False and rows[private.pk].private is True
    (nobody,) = [r for r in table_of(classroom) if r.run is None]
    assert nobody.student == classmate and nobody.needs_attention
    assert [code for code, _ in nobody.flags] == [flags.NOT_STARTED]


def test_queued_runs_show_their_place_and_wait(classroom, student, classmate, outsider):
    now = timezone.now()
    for seconds in (60, 100, 140):  # finished runs: they took 100 s on average
        done = make_run(outsider, status=Run.Status.COMPLETED)
        Run.objects.filter(pk=done.pk).update(
            started_at=now - timedelta(seconds=seconds),
            claimed_at=now - timedelta(seconds=seconds),
            finished_at=now,
        )
    make_run(outsider)  # one running: one worker slot busy
    first = make_run(student, status=Run.Status.QUEUED)
    second = make_run(classmate, status=Run.Status.QUEUED)
    rows = {r.run.pk: r for r in table_of(classroom) if r.run}
    assert (rows[first.pk].queue_place, rows[first.pk].wait_seconds) == (1, pytest.approx(100))
    assert (rows[second.pk].queue_place, rows[second.pk].wait_seconds) == (2, pytest.approx(200))
    assert rows[second.pk].waiting_words == "place 2 in the queue, about 4 min"


def test_the_panel_renders_the_sortable_table_with_markers(client, instructor, classroom, student):
    make_run(student, losses=falling(30), classroom=classroom)
    private = make_run(student, losses=falling(30))
    client.force_login(instructor)
    html = client.get(reverse("classrooms:detail", args=[classroom.pk])).content.decode()
    assert "data-results-table" in html and 'data-sort-key="loss"' in html
    assert "data-results-filter" in html and "Needs attention only" in html
    row = re.search(rf'id="result-run-{private.pk}".*?</tr>', html, re.S).group(0)
    assert "private" in row and "will be told" in row
    assert reverse("classrooms:student", args=[classroom.pk, student.pk]) in html


def test_spotlighting_a_private_run_asks_first_and_tells_the_student(
    client, instructor, classroom, student
):
    run = make_run(student, losses=falling(5))
    client.force_login(instructor)
    url = reverse("classrooms:choose_spotlight", args=[classroom.pk])
    response = client.post(url, {"run": run.pk})
    assert response.status_code == 409 and "private" in response.content.decode()
    classroom.refresh_from_db()
    assert classroom.spotlight_run is None and not Notice.objects.exists()
    assert client.post(url, {"run": run.pk, "private_ok": "1"}).status_code == 302
    classroom.refresh_from_db()
    assert classroom.spotlight_run == run
    (notice,) = Notice.objects.filter(user=student)
    assert f"private run {run.pk} on the projector" in notice.text
    client.force_login(student)  # shown once, on the next page
    assert notice.text in client.get(reverse("home")).content.decode()
    assert notice.text not in client.get(reverse("home")).content.decode()


def test_the_student_page_is_the_instructors_only(
    client, instructor, classroom, student, classmate, outsider, other_instructor
):
    run = make_run(student, losses=[5e5] * 20)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.COMPLETED, final_loss=5e5)
    url = reverse("classrooms:student", args=[classroom.pk, student.pk])
    client.force_login(instructor)
    html = client.get(url).content.decode()
    assert f"Run {run.pk}" in html and "diverged" in html and "Their loss curves" in html
    assert (
        client.get(reverse("classrooms:student", args=[classroom.pk, outsider.pk])).status_code
        == 404
    )
    for who, status in ((student, 403), (classmate, 403), (outsider, 404), (other_instructor, 404)):
        client.force_login(who)
        assert client.get(url).status_code == status, who
    client.logout()
    assert client.get(url).status_code == 302


def test_a_removed_student_is_told(client, instructor, classroom, student):
    client.force_login(instructor)
    url = reverse("classrooms:remove_student", args=[classroom.pk, student.pk])
    assert client.post(url).status_code == 302
    client.force_login(student)
    home = client.get(reverse("home")).content.decode()
    assert "You were removed from Lesson 1" in home
    response = client.get(reverse("classrooms:detail", args=[classroom.pk]))
    assert response.status_code == 403
    assert "You were removed from Lesson 1" in response.content.decode()
    classroom.join(student)  # joining again with the code: the page is theirs again
    assert client.get(reverse("classrooms:detail", args=[classroom.pk])).status_code == 200


def test_a_student_who_leaves_is_not_told_they_were_removed(client, classroom, student):
    client.force_login(student)
    client.post(reverse("classrooms:leave", args=[classroom.pk]))
    assert client.get(reverse("classrooms:detail", args=[classroom.pk])).status_code == 404
