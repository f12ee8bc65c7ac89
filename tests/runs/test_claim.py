"""Run.claim: queued -> running in one conditional update; only one claimer wins."""

import pytest

from runs.models import Run


def test_claim_moves_a_queued_run_to_running(student, start_run):
    run = start_run(student)
    assert run.claim("worker-a")
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING
    assert run.worker == "worker-a"
    assert run.started_at is not None and run.heartbeat_at is not None


def test_second_claim_does_nothing(student, start_run):
    run = start_run(student)
    assert run.claim("worker-a")
    assert not Run.objects.get(pk=run.pk).claim("worker-b")
    assert Run.objects.get(pk=run.pk).worker == "worker-a"


@pytest.mark.parametrize("status", ["completed", "failed", "canceled"])
def test_a_finished_run_cannot_be_claimed(student, start_run, status):
    run = start_run(student)
    Run.objects.filter(pk=run.pk).update(status=status)
    assert not run.claim("worker-a")
    assert Run.objects.get(pk=run.pk).status == status
