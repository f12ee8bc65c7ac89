"""/runs/: the student's own runs with status, final loss and a loss sparkline."""

from django.urls import reverse

from runs.training import train_run
from runs.views import sparkline_points

URL = reverse("runs:list")


def test_empty_state(client, student):
    client.force_login(student)
    response = client.get(URL)
    assert response.status_code == 200
    assert "No runs yet" in response.content.decode()


def test_lists_own_runs_with_sparkline_and_final_loss(client, student, outsider, start_run):
    done = start_run(student, num_steps=40)
    train_run(done.pk, "test-worker")
    waiting = start_run(student)
    start_run(outsider)
    client.force_login(student)
    html = client.get(URL).content.decode()
    assert f'id="run-row-{done.pk}"' in html and f'id="run-row-{waiting.pk}"' in html
    assert html.count('id="run-row-') == 2
    done.refresh_from_db()
    assert f"{done.final_loss:.3f}" in html
    assert html.count("<polyline") == 1
    assert "Completed" in html and "Queued" in html


def test_sparkline_is_downsampled(client, student, start_run):
    run = start_run(student, num_steps=300, sample_count=0)
    train_run(run.pk, "test-worker")
    client.force_login(student)
    response = client.get(URL)
    points = response.context["runs"][0].sparkline.split()
    assert 50 <= len(points) <= 61


def test_sparkline_points_scale_into_the_box():
    points = sparkline_points([4.0, 2.0, 1.0], width=100, height=20)
    assert points == "0.0,1.0 50.0,13.0 100.0,19.0"
    assert sparkline_points([1.0]) == ""


def test_anonymous_is_sent_to_log_in(client):
    assert client.get(URL).status_code == 302
