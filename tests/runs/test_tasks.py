"""runs.tasks: a Celery worker lowers its CPU priority by LAB_WORKER_NICE when it starts
(its training children inherit it), so the web server gets the cores first."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NICENESS_AFTER = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "microlab_site.settings")
django.setup()
from runs.tasks import yield_to_the_web
before = os.nice(0)
yield_to_the_web()
child = os.fork()
if child == 0:  # a pool child forked after the worker started: the same priority
    os._exit(os.nice(0) - before)
_, status = os.waitpid(child, 0)
print(os.nice(0) - before, os.waitstatus_to_exitcode(status))
"""


def niceness_added(setting):
    env = {**os.environ, "DEBUG": "1", "LAB_WORKER_NICE": setting}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", NICENESS_AFTER], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=60, check=True,
    )
    return [int(word) for word in done.stdout.split()]


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priorities here")
def test_a_worker_and_its_children_yield_to_the_web():
    assert niceness_added("7") == [7, 7]


def test_none_asked_none_taken():
    assert niceness_added("0") == [0, 0]
