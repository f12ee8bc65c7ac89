"""A real database for racing connections, in both passes.

`scenario(name, *args)` runs a function of tests/reliability/scenarios.py: in the
production pass right here (the test is transactional, PostgreSQL), in the embedded pass
in a subprocess on a freshly migrated SQLite file with the site's own settings.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runs.workers import celery_worker_command
from tests.conftest import PROD_PASS
from tests.runs.conftest import fast_passwords, pack, start_run  # noqa: F401 (shared fixtures)

ROOT = Path(__file__).resolve().parents[2]


def embedded_env(data_dir):
    env = {**os.environ, "LAB_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env["LAB_WORKER_MODE"] = "embedded"
    env["DJANGO_SETTINGS_MODULE"] = "microlab_site.settings"
    return env


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """A migrated SQLite file, made once per session and copied for each test."""
    if PROD_PASS:
        return None
    folder = tmp_path_factory.mktemp("lab-template")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=embedded_env(folder),
        check=True,
        timeout=120,
    )
    return folder / "db.sqlite3"


@pytest.fixture
def lab_env(migrated_sqlite, tmp_path):
    """Environment for a process of the embedded lab on this test's own SQLite copy."""
    if PROD_PASS:
        return None
    shutil.copy(migrated_sqlite, tmp_path / "db.sqlite3")
    return embedded_env(tmp_path)


def run_scenario_process(env, name, *args, timeout=120):
    result = subprocess.run(
        [sys.executable, "-m", "tests.reliability.scenarios", name, *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def scenario(lab_env):
    """Needs @pytest.mark.django_db(transaction=True) on the test (for the production pass)."""
    if PROD_PASS:
        from tests.reliability import scenarios

        return lambda name, *args: getattr(scenarios, name)(*args)
    return lambda name, *args: run_scenario_process(lab_env, name, *args)


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real `celery -A microlab_site worker` process (production pass only) on the test
    database and Redis, with a 2 s heartbeat window so a lost worker is judged fast."""
    import time

    from django.db import connection

    from microlab_site.celery import app

    assert PROD_PASS, "the Celery worker is for the production pass"
    test_database = connection.settings_dict["NAME"]  # pytest-django's test_<name>
    env = {
        **os.environ,
        "DATABASE_URL": re.sub(r"/[^/]*$", f"/{test_database}", os.environ["DATABASE_URL"]),
        "LAB_HEARTBEAT_STALE_SECONDS": "2",
        "LAB_WORKER_NICE": "5",  # tests/reliability/test_terminal_events.py checks it
        "PYTHONUNBUFFERED": "1",
    }
    app.control.purge()  # tasks left in the test broker by earlier sessions
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    log = open(log_path, "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        celery_worker_command(loglevel="INFO"),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    from runs.models import WorkerHeartbeat

    with django_db_blocker.unblock():
        deadline = time.monotonic() + 60
        while not WorkerHeartbeat.objects.filter(mode="celery").exists():
            assert process.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the worker never beat\n" + log_path.read_text()
            time.sleep(0.2)
    process.log_path = log_path
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
