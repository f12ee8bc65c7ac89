"""classrooms/templatetags/results_rows.py: a results table row is rendered once for each
distinct content and kept; a kept row is always the row a fresh render would give."""

import re

import pytest
from django.urls import reverse

from classrooms.templatetags import results_rows
from runs.models import Kind, Run
from tests.classrooms.conftest import falling, make_run

pytestmark = pytest.mark.django_db


def panel_html(client, classroom):
    html = client.get(reverse("classrooms:detail", args=[classroom.pk])).content.decode()
    return re.sub(r'(CSRFToken": "|csrfmiddlewaretoken" value=")[^"]+', r"\1…", html)


def fresh_panel_html(client, classroom):
    """The same page with nothing kept: every row rendered now."""
    kept = dict(results_rows.ROWS.entries)
    results_rows.ROWS.clear()
    try:
        return panel_html(client, classroom)
    finally:
        for key, html in kept.items():
            results_rows.ROWS[key] = html


def test_kept_rows_are_the_rows_of_a_fresh_render_as_runs_change(
    client, instructor, classroom, student, classmate
):
    client.force_login(instructor)
    running = make_run(student, losses=falling(20), classroom=classroom)
    done = make_run(classmate, losses=falling(50), status=Run.Status.COMPLETED)
    results_rows.ROWS.clear()
    first = panel_html(client, classroom)
    assert len(results_rows.ROWS) == 2  # one per row shown
    assert panel_html(client, classroom) == first == fresh_panel_html(client, classroom)

    # the running run moves on, then ends; the spotlight moves; the finished run is kept
    running.append_events(
        [(Kind.STEP, 21, {"step": 21, "loss": 9.0})], current_step=21
    )
    assert "21/200" in panel_html(client, classroom)
    assert panel_html(client, classroom) == fresh_panel_html(client, classroom)
    running.finish(Kind.COMPLETED, final_loss=1.0, data={"step": 21})
    classroom.spotlight_run_id = done.pk
    classroom.save()
    after = panel_html(client, classroom)
    assert after == fresh_panel_html(client, classroom)
    assert after.count("on the spotlight") == 1 and "Completed" in after


def test_a_kept_row_is_reused_not_rendered_again(
    client, instructor, classroom, student, monkeypatch
):
    client.force_login(instructor)
    make_run(student, losses=falling(20), status=Run.Status.COMPLETED, classroom=classroom)
    results_rows.ROWS.clear()
    panel_html(client, classroom)
    rendered = []
    real = results_rows.render_to_string
    monkeypatch.setattr(
        results_rows, "render_to_string", lambda *a, **k: rendered.append(a) or real(*a, **k)
    )
    panel_html(client, classroom)
    assert rendered == []  # nothing changed: every row kept
