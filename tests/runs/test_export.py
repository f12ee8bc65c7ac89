"""/runs/<id>/export.json: config, every step's scalars and the samples, for whoever may
watch the run."""

import json

import pytest
from django.urls import reverse

from runs.training import train_run
from tests.runs.conftest import TINY


@pytest.fixture
def finished_run(student, start_run, classroom):
    run = start_run(student, classroom=classroom, num_steps=20, sample_interval=10)
    train_run(run.pk, "test-worker")
    return run


def export(client, run):
    return client.get(reverse("runs:export", args=[run.pk]))


def test_owner_downloads_config_steps_and_samples(client, student, finished_run):
    client.force_login(student)
    response = export(client, finished_run)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="run-{finished_run.pk}.json"'
    body = json.loads(response.content)
    assert body["config"] == {**TINY, "num_steps": 20, "sample_interval": 10}
    assert body["run"]["status"] == "completed" and body["run"]["final_loss"] > 0
    assert [s["step"] for s in body["steps"]] == list(range(1, 21))
    assert {"loss", "lr", "grad_norms", "update_norms"} <= set(body["steps"][0])
    assert [s["step"] for s in body["samples"]] == [10] * 3 + [20] * 3
    assert all({"text", "follows"} <= set(s) for s in body["samples"])


@pytest.mark.parametrize("who", ["instructor", "classmate"])
def test_instructor_and_classmate_of_a_shared_run_may_export(
    client, finished_run, who, instructor, classmate
):
    client.force_login({"instructor": instructor, "classmate": classmate}[who])
    assert export(client, finished_run).status_code == 200


def test_classmate_may_not_export_an_unshared_run(client, student, classmate, classroom, start_run):
    run = start_run(student)
    client.force_login(classmate)
    assert export(client, run).status_code == 404


def test_outsider_gets_404_and_anonymous_logs_in(client, outsider, finished_run):
    assert export(client, finished_run).status_code == 302
    client.force_login(outsider)
    assert export(client, finished_run).status_code == 404
