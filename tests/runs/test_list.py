"""/runs/: the student's own runs with status, final loss and a loss sparkline."""

import pytest
from django.urls import reverse

from runs.models import Kind
from runs.training import train_run
from runs.views import SPARK_HEIGHT, SPARK_WIDTH, smoothed_losses, sparkline_points

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
    points = sparkline_points([(1, 4.0), (51, 2.0), (101, 1.0)], 101, width=100, height=20)
    assert points == "0.0,1.0 50.0,13.0 100.0,19.0"
    assert sparkline_points([(1, 1.0)], 10) == ""
    assert sparkline_points([(1, None), (2, 1.0)], 10) == ""  # a non-finite loss is left out


def add_steps(run, losses):
    run.append_events([(Kind.STEP, step, {"loss": loss}) for step, loss in enumerate(losses, 1)])


def sparkline_xy(run_html_points):
    return [tuple(map(float, point.split(","))) for point in run_html_points.split()]


def test_sparkline_starts_at_step_1_and_plots_bucket_means(student, start_run):
    # The loss falls from 3.76 then wobbles: every 5th raw step alone would start low at
    # 1.54 and seem to rise; the bucket means fall, and step 1 stays the first point.
    run = start_run(student, num_steps=300)
    wobble = [1.54 if step % 5 == 0 else 1.0 for step in range(2, 301)]
    add_steps(run, [3.76, *wobble])
    points = smoothed_losses(run)
    assert points[0] == (1, 3.76)
    assert len(points) == 61  # step 1, then 60 buckets of 5 steps
    assert points[1] == (4, pytest.approx((4 * 1.0 + 1.54) / 5))  # the mean of steps 2..6
    assert points[-1][0] == 298.5  # the last bucket is steps 297..300
    xy = sparkline_xy(sparkline_points(points, run.num_steps))
    assert xy[0] == (0.0, 1.0)  # the start is the highest loss, top left
    assert all(y > 1.0 for _, y in xy[1:])


def test_a_run_stopped_halfway_draws_half_the_width(client, student, start_run):
    run = start_run(student, num_steps=201)
    add_steps(run, [3.0 - step / 100 for step in range(1, 102)])  # 101 of 201 steps
    run.request_cancel()
    client.force_login(student)
    listed = client.get(URL).context["runs"][0]
    assert listed.status == "canceled"
    xs = [x for x, _ in sparkline_xy(listed.sparkline)]
    assert xs[0] == 0.0
    assert SPARK_WIDTH * 0.45 < xs[-1] <= SPARK_WIDTH / 2
    assert max(y for _, y in sparkline_xy(listed.sparkline)) == SPARK_HEIGHT - 1


def test_anonymous_is_sent_to_log_in(client):
    assert client.get(URL).status_code == 302
