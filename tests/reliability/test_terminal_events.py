"""Exactly one terminal event per run, always: an exception records run.failed with a
readable reason, a killed worker process is found by the reaper ("worker lost"), the
database refuses a second terminal event, and a verdict reached elsewhere stops the
trainer without a second one."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine import Trainer
from runs import workers
from runs.models import TERMINAL_KINDS, Kind, Run, RunEvent
from runs.reaper import WORKER_LOST, reap_runs
from runs.training import train_run
from tests.conftest import PROD_PASS
from tests.reliability.conftest import ROOT, run_scenario_process
from tests.runs.conftest import TINY

pytestmark = pytest.mark.services


def terminal_events(run):
    return list(RunEvent.objects.filter(run=run, kind__in=TERMINAL_KINDS))


def test_an_exception_in_training_records_run_failed(student, start_run, monkeypatch):
    run = start_run(student)
    original = Trainer.step

    def step_then_break(self):
        if self.step_count == 5:
            raise RuntimeError("boom: secret internals")
        return original(self)

    monkeypatch.setattr(Trainer, "step", step_then_break)
    train_run(run.pk, "w")
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error == "training stopped by an internal error (RuntimeError)"
    assert "secret" not in run.error  # the traceback goes to the log, not the page
    [event] = terminal_events(run)
    assert event.kind == Kind.FAILED and event.data["step"] == 5
    assert run.finished_at is not None


def test_an_invalid_config_fails_with_the_engines_reason(student, start_run):
    run = start_run(student)
    Run.objects.filter(pk=run.pk).update(config={**TINY, "n_layer": 9})
    train_run(run.pk, "w")
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error == "n_layer must be between 1 and 2 (got 9)"
    assert len(terminal_events(run)) == 1


def test_the_database_refuses_a_second_terminal_event(student, start_run):
    run = start_run(student)
    run.finish(Kind.CANCELED)
    with pytest.raises(IntegrityError), transaction.atomic():
        RunEvent.objects.create(run=run, seq=99, kind=Kind.FAILED, data={})
    with pytest.raises(IntegrityError), transaction.atomic():
        RunEvent.objects.create(run=run, seq=2, kind=Kind.STEP, data={})  # seq taken


def test_a_second_verdict_is_a_no_op(student, start_run):
    run = start_run(student)
    assert run.finish(Kind.COMPLETED, final_loss=1.5)
    assert not run.finish(Kind.FAILED, error="late")
    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED and run.error == "" and run.final_loss == 1.5
    assert len(terminal_events(run)) == 1


def test_reaper_resumes_stale_runs_and_fails_the_third_loss(student, start_run, settings):
    settings.LAB_HEARTBEAT_STALE_SECONDS = 30
    settings.LAB_WORKER_MODE = "embedded"
    stale, fresh = start_run(student), start_run(student)
    for run in (stale, fresh):
        run.claim("w")
    Run.objects.filter(pk=stale.pk).update(current_step=12)
    for loss in (1, 2, 3):
        long_ago = timezone.now() - timedelta(seconds=31)
        Run.objects.filter(pk=stale.pk).update(heartbeat_at=long_ago)
        assert reap_runs() == (1, 0)
        stale.refresh_from_db()
        fresh.refresh_from_db()
        assert fresh.status == Run.Status.RUNNING
        assert stale.worker_losses == min(loss, 2)
        if loss < 3:  # back in the queue, with a note of where the worker stopped
            assert stale.status == Run.Status.QUEUED and stale.worker == ""
            note = stale.events.filter(kind=Kind.RESUMED).order_by("-seq").first()
            assert note.data == {"step": 12, "worker": "w" if loss == 1 else "w2", "losses": loss}
            assert reap_runs() == (0, 0)  # reaping again changes nothing
            assert stale.claim("w2")
    assert stale.status == Run.Status.FAILED and stale.error == WORKER_LOST
    assert len(terminal_events(stale)) == 1


def test_reaper_redispatches_forgotten_queued_runs(student, start_run, settings):
    settings.LAB_WORKER_MODE = "embedded"
    run = start_run(student)
    long_ago = timezone.now() - timedelta(hours=1)
    Run.objects.filter(pk=run.pk).update(dispatched_at=long_ago)
    workers._queue.queue.clear()
    assert reap_runs() == (0, 1)
    assert list(workers._queue.queue) == [run.pk]
    assert Run.objects.get(pk=run.pk).dispatched_at > long_ago
    assert reap_runs() == (0, 0)


def test_a_run_reaped_while_training_stops_without_a_second_verdict(
    student, start_run, monkeypatch
):
    run = start_run(student, num_steps=500)
    original = Run.append_events

    def reaped_midway(self, events, *args, **kwargs):
        if kwargs.get("current_step", 0) >= 20:
            Run.objects.get(pk=self.pk).finish(Kind.FAILED, error=WORKER_LOST)
        return original(self, events, *args, **kwargs)

    monkeypatch.setattr(Run, "append_events", reaped_midway)
    monkeypatch.setattr("runs.training.FLUSH_SECONDS", 0)
    train_run(run.pk, "w")
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED and run.error == WORKER_LOST
    assert len(terminal_events(run)) == 1
    assert run.current_step < 500


# --- a real worker process, killed mid-run --------------------------------------------------


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(PROD_PASS, reason="the production pass kills a Celery worker instead")
def test_killed_training_process_is_resumed_bit_for_bit_embedded(lab_env):
    """Embedded pass: a process training on the lab's SQLite file is killed with SIGKILL;
    the reaper (here run once the heartbeat is 2 s stale) puts the run back in the queue,
    another process resumes it, and its losses equal an uninterrupted twin's exactly."""
    env = {**lab_env, "LAB_HEARTBEAT_STALE_SECONDS": "2"}
    run_id = run_scenario_process(env, "make_long_run")["run_id"]
    victim = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.scenarios", "train", str(run_id)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    database = Path(env["LAB_DATA_DIR"]) / "db.sqlite3"

    def progress():
        with sqlite3.connect(database, timeout=20) as db:
            row = db.execute(
                "SELECT status, current_step FROM runs_run WHERE id = ?", (run_id,)
            ).fetchone()
        return row if row[0] == "running" and row[1] > 100 else None

    try:
        wait_for(progress, 30, "the run to train")
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    time.sleep(2.5)
    outcome = run_scenario_process(env, "reap_and_report", run_id)
    assert outcome["reaped"] == 1
    assert outcome["status"] == "queued" and outcome["error"] == ""
    assert 0 < outcome["current_step"] < 2000
    stopped_at = outcome["current_step"]
    outcome = run_scenario_process(env, "finish_and_compare", run_id)
    assert outcome["status"] == "completed" and outcome["terminal_events"] == 1
    assert [note["step"] for note in outcome["resumed"]] == [stopped_at]
    assert outcome["steps_in_order"]
    assert outcome["same_losses"] and outcome["final_loss_same"]


@pytest.mark.skipif(not PROD_PASS, reason="needs Redis and PostgreSQL (production pass)")
@pytest.mark.django_db(transaction=True)
def test_killed_celery_worker_run_resumes_bit_for_bit(celery_worker):
    """Production pass: the Celery child training the run is killed with SIGKILL; the
    worker's keeper sees the run's heartbeat go stale (2 s here, 30 s by default) and puts
    it back in the queue; a worker resumes it from its stored steps. Its losses equal an
    uninterrupted twin's bit for bit, and it has one terminal event."""
    from tests.reliability.scenarios import finish_and_compare, make_long_run

    run_id = make_long_run()["run_id"]

    def training():
        run = Run.objects.get(pk=run_id)
        return run if run.status == Run.Status.RUNNING and run.current_step > 100 else None

    run = wait_for(training, 60, "the worker to train the run")
    pid = int(run.worker.rsplit(":", 1)[1])
    assert pid != os.getpid() and pid != celery_worker.pid
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()

    def resumed():
        run = Run.objects.get(pk=run_id)
        return run.worker_losses == 1 and run.status == Run.Status.RUNNING

    wait_for(resumed, 30, "the reaper and another worker")
    assert time.monotonic() - killed_at < 30
    wait_for(lambda: Run.objects.get(pk=run_id).is_finished, 60, "the resumed run to finish")
    outcome = finish_and_compare(run_id)
    assert outcome["status"] == "completed", celery_worker.log_path.read_text()[-2000:]
    assert outcome["terminal_events"] == 1
    assert len(outcome["resumed"]) == 1 and 0 < outcome["resumed"][0]["step"] < 2000
    assert outcome["steps_in_order"]
    assert outcome["same_losses"] and outcome["final_loss_same"], (outcome, run.worker)


@pytest.mark.skipif(not PROD_PASS, reason="needs Redis and PostgreSQL (production pass)")
@pytest.mark.django_db(transaction=True)
def test_celery_worker_trains_a_run_end_to_end(celery_worker):
    from tests.reliability.scenarios import make_run

    run = make_run(num_steps=50)
    wait_for(lambda: Run.objects.get(pk=run.pk).is_finished, 60, "the run to finish")
    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED, celery_worker.log_path.read_text()[-2000:]
    assert run.task_id and run.worker
    assert len(terminal_events(run)) == 1


@pytest.mark.skipif(not PROD_PASS, reason="needs Redis and PostgreSQL (production pass)")
def test_the_celery_worker_and_its_pool_yield_the_cpu_to_the_web(celery_worker):
    """runs.tasks.yield_to_the_web: the worker and its training child run at a lower priority
    (LAB_WORKER_NICE, 5 for this worker, higher niceness) than the process that started
    them."""
    children = Path(f"/proc/{celery_worker.pid}/task/{celery_worker.pid}/children")
    pool = [int(pid) for pid in children.read_text().split()] if children.exists() else []
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    for pid in [celery_worker.pid, *pool]:
        expected = min(19, ours + 5)
        assert os.getpriority(os.PRIO_PROCESS, pid) == expected, pid
    assert pool or not children.exists()  # the prefork pool's child, where /proc tells
