import json
import math
import re

import pytest
from django.urls import reverse

from classrooms import panel
from runs.models import Run
from tests.classrooms.conftest import falling, make_run

pytestmark = pytest.mark.django_db


def test_roster_lists_each_student_with_active_and_recent_runs(classroom, student, classmate):
    running = make_run(student, losses=falling(30))
    done = [make_run(student, losses=falling(10), status=Run.Status.COMPLETED) for _ in range(4)]
    queued = make_run(classmate, status=Run.Status.QUEUED)
    rows = {row.student.username: row for row in panel.roster(classroom)}
    assert [r.pk for r in rows["student"].active] == [running.pk]
    assert [r.pk for r in rows["student"].recent] == [d.pk for d in reversed(done)][:3]
    assert [r.pk for r in rows["classmate"].active] == [queued.pk]
    assert rows["student"].active[0].current_loss == pytest.approx(1.0)
    assert rows["student"].colour != rows["classmate"].colour


def steps_of(curve):
    """A curve's steps as static/js/classroom_overlay.js expands them."""
    return curve.get("steps") or panel.regular_steps(curve["stride"], curve["last"])


def test_overlay_has_one_curve_per_running_student_and_the_baseline(classroom, student, classmate):
    make_run(student, losses=falling(150))
    make_run(classmate, losses=falling(40), vocab="abcdefg")
    make_run(classmate, status=Run.Status.QUEUED)  # no steps: no curve
    context = panel.context(classroom)
    curves = context["overlay"]["curves"]
    assert len(curves) == 2
    by_label = {c["label"].split(" ")[0]: c for c in curves}
    assert steps_of(by_label["student"])[-1] == 150 and by_label["student"]["loss"][-1] == 1.0
    assert by_label["classmate"]["url"].startswith("/runs/")
    assert {round(b["value"], 4) for b in context["overlay"]["baselines"]} == {
        round(math.log(4), 4),
        round(math.log(8), 4),
    }


def test_long_runs_are_thinned_to_a_few_hundred_points(classroom, student):
    make_run(student, losses=falling(1000))
    (curve,) = panel.context(classroom)["overlay"]["curves"]
    assert (curve["stride"], curve["last"]) == (7, 1000) and "steps" not in curve  # compact
    steps = steps_of(curve)
    assert steps[:3] == [1, 7, 14] and steps[-2:] == [994, 1000]
    assert len(steps) == len(curve["loss"]) <= panel.OVERLAY_POINTS + 1


def test_irregular_steps_are_listed():
    assert panel.compact_steps([1, 2, 3]) == {"stride": 1, "last": 3}
    assert panel.compact_steps([1, 5, 10, 12]) == {"stride": 5, "last": 12}
    assert panel.compact_steps([1, 5, 11]) == {"steps": [1, 5, 11]}
    assert panel.compact_steps([1, 5]) == {"steps": [1, 5]}


def test_the_panel_page_flags_a_diverging_run(client, instructor, classroom, student):
    make_run(student, losses=[1.0] * 20 + [6e5 + 1000 * i for i in range(30)])
    client.force_login(instructor)
    body = client.get(reverse("classrooms:detail", args=[classroom.pk])).content.decode()
    assert "Diverged — Training blew up" in body and "2 need attention" in body  # + not started
    assert 'ws-connect="/ws/classrooms/' in body
    data = body.split('id="overlay-data" type="application/json">')[1].split("</script>")[0]
    (curve,) = json.loads(data)["curves"]
    assert curve["flag"].startswith("Diverged") and curve["diverged"] is True


def test_the_instructor_cancels_a_students_run(client, instructor, classroom, student):
    run = make_run(student, status=Run.Status.QUEUED)
    client.force_login(instructor)
    response = client.post(
        reverse("classrooms:cancel_run", args=[classroom.pk, run.pk]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and 'id="roster"' in response.content.decode()
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELED
    assert run.events.filter(kind="run.canceled").count() == 1
    # the student's run page says who canceled it
    client.force_login(student)
    html = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert f"Canceled by the instructor, {instructor.username}." in html


def test_a_running_run_gets_the_cancel_flag(client, instructor, classroom, student):
    run = make_run(student, losses=falling(3))
    client.force_login(instructor)
    client.post(reverse("classrooms:cancel_run", args=[classroom.pk, run.pk]))
    run.refresh_from_db()
    assert run.cancel_requested


def test_cannot_cancel_a_run_outside_the_classroom(client, instructor, classroom, outsider):
    run = make_run(outsider, status=Run.Status.QUEUED)
    client.force_login(instructor)
    response = client.post(reverse("classrooms:cancel_run", args=[classroom.pk, run.pk]))
    assert response.status_code == 404
    run.refresh_from_db()
    assert run.status == Run.Status.QUEUED


def test_choose_the_spotlight(client, instructor, classroom, student, outsider):
    run = make_run(student, losses=falling(5), classroom=classroom)
    client.force_login(instructor)
    url = reverse("classrooms:choose_spotlight", args=[classroom.pk])
    assert client.post(url, {"run": run.pk}).status_code == 302
    classroom.refresh_from_db()
    assert classroom.spotlight_run == run
    stranger_run = make_run(outsider)
    assert client.post(url, {"run": stranger_run.pk}).status_code == 404
    assert client.post(url, {"run": "x"}).status_code == 400
    classroom.refresh_from_db()
    assert classroom.spotlight_run == run
    body = client.get(reverse("classrooms:detail", args=[classroom.pk])).content.decode()
    assert "on the spotlight" in body


def test_the_spotlight_shows_the_run_to_who_may_see_it(
    client, classroom, instructor, student, classmate
):
    run = make_run(student, losses=falling(5))
    classroom.spotlight(run)
    client.force_login(instructor)
    body = client.get(reverse("classrooms:spotlight", args=[classroom.pk])).content.decode()
    assert 'id="loss-canvas"' in body and f"run {run.pk}" in body
    client.force_login(classmate)  # not shared with the class: not shown to a classmate
    body = client.get(reverse("classrooms:spotlight", args=[classroom.pk])).content.decode()
    assert 'id="loss-canvas"' not in body and "not shared with you" in body
    for leak in (f"run {run.pk}", "student ·", run.source_title):  # nor named in the header
        assert leak not in body, leak
    Run.objects.filter(pk=run.pk).update(classroom=classroom)
    body = client.get(reverse("classrooms:spotlight", args=[classroom.pk])).content.decode()
    assert 'id="loss-canvas"' in body


def test_the_spotlight_empty_state(client, classroom, instructor):
    client.force_login(instructor)
    body = client.get(reverse("classrooms:spotlight", args=[classroom.pk])).content.decode()
    assert "Nothing on the spotlight yet" in body


def test_the_panel_has_a_compare_checkbox_beside_each_run(client, instructor, classroom, student):
    runs = [make_run(student, losses=falling(5)), make_run(student, status=Run.Status.QUEUED)]
    client.force_login(instructor)
    body = client.get(reverse("classrooms:detail", args=[classroom.pk])).content.decode()
    assert '<form id="compare-form" method="get" action="/runs/compare/"' in body
    for run in runs:
        (box,) = re.findall(rf'<input [^>]*id="compare-run-{run.pk}"[^>]*>', body)
        assert 'type="checkbox"' in box and f'value="{run.pk}"' in box
        assert 'name="run"' in box and 'form="compare-form"' in box and "hx-preserve" in box
        assert f"Compare run {run.pk}" in body
    # the pushed roster (and the cancel swap) keeps the boxes, with the same ids
    roster = client.get(reverse("classrooms:roster", args=[classroom.pk])).content.decode()
    assert f'id="compare-run-{runs[0].pk}"' in roster


def test_a_live_socket_reads_only_new_steps_and_draws_the_same(
    classroom, student, django_assert_max_num_queries
):
    run = make_run(student, losses=falling(300))
    cache = {}
    panel.overlay(panel.roster(classroom), cache)
    more = [("step", i, {"step": i, "loss": 0.5}) for i in range(301, 601)]
    run.append_events(more, current_step=600)
    live = panel.overlay(panel.roster(classroom), cache)
    fresh = panel.overlay(panel.roster(classroom))
    assert live == fresh
    assert steps_of(live["curves"][0])[-1] == 600


def test_the_roster_shows_a_finished_runs_final_loss_and_a_live_runs_latest(
    client, instructor, classroom, student
):
    done = make_run(student, losses=[3.0, 2.0, 0.9], status=Run.Status.COMPLETED)
    Run.objects.filter(pk=done.pk).update(final_loss=1.234)  # the mean of the last steps
    live = make_run(student, losses=[3.0, 2.5])
    client.force_login(instructor)
    html = client.get(reverse("classrooms:detail", args=[classroom.pk])).content.decode()
    done_row = re.search(rf'id="result-run-{done.pk}".*?</tr>', html, re.S).group(0)
    live_row = re.search(rf'id="result-run-{live.pk}".*?</tr>', html, re.S).group(0)
    assert ">1.234<" in done_row and "0.900" not in done_row
    assert ">2.750<" in live_row  # smoothed: the mean of its last steps (3.0 and 2.5)
