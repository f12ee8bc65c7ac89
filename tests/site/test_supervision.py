"""deploy/supervisord.conf (what `make run-prod` runs): a worker process killed with
SIGKILL is started again, and the new one trains the runs that were waiting."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from classrooms.loadlab import free_port
from runs.models import Run, WorkerHeartbeat
from tests.conftest import PROD_PASS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not PROD_PASS, reason="needs Redis and PostgreSQL (production pass)"),
]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def worker_pids():
    names = WorkerHeartbeat.objects.filter(mode="celery").values_list("name", flat=True)
    return {int(name.rsplit(":", 1)[1]) for name in names}


def test_a_killed_worker_is_started_again_and_trains(tmp_path):
    from django.db import connection

    from tests.reliability.scenarios import make_run

    port = free_port()
    conf = (ROOT / "deploy" / "supervisord.conf").read_text()
    conf = conf.replace("%(here)s/../var", str(tmp_path)).replace("%(here)s/..", str(ROOT))
    (tmp_path / "supervisord.conf").write_text(conf)
    env = {
        **os.environ,
        "DATABASE_URL": re.sub(
            r"/[^/]*$", f"/{connection.settings_dict['NAME']}", os.environ["DATABASE_URL"]
        ),
        "LAB_PORT": str(port),
        "LAB_WEB_PROCESSES": "2",
        "LAB_WORKER_CONCURRENCY": "1",
        "LAB_HEARTBEAT_STALE_SECONDS": "3",
        "LAB_DATA_DIR": str(tmp_path),
    }
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(tmp_path / "supervisord.conf")],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / "out.log", "w"),  # noqa: SIM115 (a test's log)
        stderr=subprocess.STDOUT,
    )
    first = None
    try:
        [first] = wait_for(worker_pids, 60, "the supervised worker to beat")
        os.kill(first, signal.SIGKILL)
        WorkerHeartbeat.objects.all().delete()
        again = wait_for(worker_pids, 60, "the worker to be started again")
        assert first not in again
        run = make_run(num_steps=20)
        wait_for(lambda: Run.objects.get(pk=run.pk).is_finished, 60, "the run to be trained")
        assert Run.objects.get(pk=run.pk).status == Run.Status.COMPLETED
        # the web: two server processes answering on the one port supervisord opened
        assert wait_for(lambda: health(port), 60, "the web to answer") in (200, 503)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=60)
        if first:
            # the killed worker's pool child outlives it (orphaned, still connected to the
            # broker and the database): end what is left of its process group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(first, signal.SIGKILL)
    log = (tmp_path / "out.log").read_text()
    assert "exited: worker (terminated by SIGKILL" in log
    assert "success: web_00" in log and "success: web_01" in log, log[-3000:]


def health(port):
    """The status /health/ answers on `port`, or None while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None
