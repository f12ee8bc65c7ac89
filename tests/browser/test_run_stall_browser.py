"""A worker that goes quiet mid-run, seen from the run page in a real browser: first the
page says the worker has gone quiet (instead of freezing on "Running"), then the reaper
judges the worker lost and another worker resumes the run from its stored steps; the page
says so and follows it to the end. (The third loss of one run fails it: tests/runs.)"""

import re

import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = [pytest.mark.browser]

# A run "trained" by a worker that no longer exists: running, last heartbeat just now.
ORPHAN = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from packs_app.models import Pack
from runs.models import Run
pack = Pack.objects.get(slug="arithmetic")
now = timezone.now()
run = Run.objects.create(
    owner=get_user_model().objects.get(username="wilkes"), pack=pack,
    config=pack.recommended_config, num_steps=pack.recommended_config["num_steps"],
    status=Run.Status.RUNNING, started_at=now - timedelta(seconds=3), heartbeat_at=now,
    current_step=10, worker="gone@nowhere",
)
print(run.pk)
"""


def test_a_quiet_worker_is_said_then_the_run_resumes_on_another(page, lab_server):
    lab_server.wait_healthy()
    sign_up(page, "wilkes")
    run_id = int(lab_server.manage("shell", "-c", ORPHAN).strip().splitlines()[-1])
    page.goto(f"/runs/{run_id}/")
    assert page.locator("#run-status").get_attribute("data-status") == "running"
    stall = page.locator(".run-stall")
    stall.wait_for(state="visible", timeout=20_000)  # quiet for 10 s
    assert re.search(r"No word from the worker training this run for 1\d s", stall.inner_text())
    screenshot(page, "run-worker-quiet")
    # the reaper (heartbeat stale after 15 s here) hands it to another worker, which
    # replays the run to step 10 and trains on; the socket tells the page
    page.locator('#run-status[data-status="completed"]').wait_for(timeout=90_000)
    status = page.locator("#run-status").inner_text()
    assert "The worker stopped at step 10; resumed on another worker." in status
    assert page.locator(".run-stall").count() == 0
    screenshot(page, "run-worker-resumed")
