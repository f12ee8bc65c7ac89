"""Outages in production mode, tried for real: a whole lab (daphne and two Celery workers)
on the test database and a Redis server of its own, which the test restarts mid-run; then
every connection to the test database is dropped mid-run. The runs complete, the workers
live, a viewer sees the end, and a websocket handshake right after each outage succeeds.

Each test prints its figures (`-s` shows them): runs completed of runs started.
"""

import os
import re
import shutil
import subprocess
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from classrooms.loadlab import Lab, LiveSocket, free_port, session_cookie
from packs_app.models import Pack
from packs_app.sources import resolve_source
from runs.models import Run
from tests.conftest import PROD_PASS
from tests.runs.conftest import PACK_TEXT, TINY

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not PROD_PASS, reason="needs PostgreSQL and Redis (production pass)"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]
LONG = {**TINY, "n_embd": 16, "block_size": 24, "num_steps": 1500, "sample_count": 0}


class OwnRedis:
    """A redis-server of this test's own, without persistence: a restart loses every key,
    as a crashed broker without a snapshot does."""

    def __init__(self, folder):
        self.port, self.folder, self.process = free_port(), folder, None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        ).stdout.strip() != "PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def lab(tmp_path, django_db_blocker):
    redis = OwnRedis(tmp_path)
    redis.start()
    env = {
        "DATABASE_URL": re.sub(
            r"/[^/]*$", f"/{connection.settings_dict['NAME']}", os.environ["DATABASE_URL"]
        ),
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "LAB_HEARTBEAT_STALE_SECONDS": "6",
        "LAB_CHANNEL_PREFIX": f"outage{redis.port}",
    }
    lab = Lab(free_port(), 2, tmp_path, env=env)
    lab.redis = redis
    try:
        lab.start()
        lab.wait_healthy()
        yield lab
    finally:
        lab.stop()
        redis.stop()


@pytest.fixture
def owner(db):
    user = get_user_model().objects.create_user("outage-student")
    Pack.objects.create(slug="outage-sums", title="Sums", teaches="-", text=PACK_TEXT)
    return user


def start_runs(owner, count):
    source = resolve_source("outage-sums", owner)
    return [Run.objects.start(owner, source, LONG, max_active=99).pk for _ in range(count)]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def training(run_ids):
    return Run.objects.filter(pk__in=run_ids, status="running", current_step__gt=50).exists()


def handshake(lab, user, run_id):
    """Open a run socket as `user`; (HTTP status of the handshake, the socket)."""
    viewer = LiveSocket("127.0.0.1", lab.port, f"/ws/runs/{run_id}/", session_cookie(user)[0])
    viewer.start()
    viewer.opened.wait(30)
    return viewer.handshake, viewer


def outcome(lab, run_ids):
    runs = Run.objects.filter(pk__in=run_ids)
    completed = runs.filter(status=Run.Status.COMPLETED).count()
    alive = [name for name, (p, _) in lab.processes.items() if p.poll() is None]
    crashed = [
        name for name in lab.processes if "Unrecoverable" in lab.log_text(name)
    ]
    return completed, alive, crashed


def test_a_redis_restart_mid_run(lab, owner):
    run_ids = start_runs(owner, 4)
    wait_for(lambda: training(run_ids), 60, "a run to train")
    lab.redis.stop()  # the broker and the channel layer go away for 3 s...
    time.sleep(1)
    run_ids += start_runs(owner, 1)  # ...a run submitted meanwhile cannot be dispatched
    time.sleep(2)
    lab.redis.start()  # ...and come back empty
    status, viewer = handshake(lab, owner, run_ids[0])
    started = time.monotonic()
    wait_for(
        lambda: not Run.objects.filter(pk__in=run_ids).active().exists(), 120, "every run to end"
    )
    all_done_s = time.monotonic() - started
    completed, alive, crashed = outcome(lab, run_ids)
    viewer.close()
    print(
        f"\nredis restart: {completed} of {len(run_ids)} runs completed, "
        f"{len(alive)} of 3 processes alive, handshake {status}, all ended {all_done_s:.1f} s "
        "after the restart"
    )
    assert completed == len(run_ids)
    assert not crashed and len(alive) == 3  # daphne and both workers
    assert status == 101 and viewer.pushes, "the handshake right after the restart"


def drop_database_connections():
    """Terminate every other connection to the test database: the workers', daphne's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_database_connections_dropped_mid_run(lab, owner):
    run_ids = start_runs(owner, 3)
    status, viewer = handshake(lab, owner, run_ids[0])
    assert status == 101
    wait_for(lambda: training(run_ids), 60, "a run to train")
    dropped = drop_database_connections()
    after_status, second_viewer = handshake(lab, owner, run_ids[1])
    time.sleep(1)
    dropped += drop_database_connections()  # and once more, while they reconnect
    wait_for(
        lambda: not Run.objects.filter(pk__in=run_ids).active().exists(), 120, "every run to end"
    )
    wait_for(lambda: viewer.saw('data-status="completed"'), 10, "the viewer to see the end")
    completed, alive, crashed = outcome(lab, run_ids)
    failed = Run.objects.filter(pk__in=run_ids, status="failed").values_list("error", flat=True)
    viewer.close()
    second_viewer.close()
    print(
        f"\ndatabase drop: {dropped} connections dropped (twice); {completed} of {len(run_ids)} "
        f"runs completed; the live viewer saw the end; handshake after the drop {after_status}"
    )
    assert completed == len(run_ids), list(failed)
    assert not crashed and len(alive) == 3
    assert after_status == 101 and second_viewer.error is None
