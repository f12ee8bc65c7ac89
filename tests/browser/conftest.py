"""A real lab for browser tests: migrate, load the packs, serve with daphne (and, in the
production pass, a Celery worker process), then drive Debian's Chromium with Playwright.

The server runs as `make run` would, in its own process against its own database, so the
tests talk to it only the way a user does: through the browser (plus `manage` commands
for what only an admin could do, such as granting the instructor role).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from runs.workers import celery_worker_command
from tests.conftest import IN_CI, PROD_PASS, require

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_postgres_database(base_url, name):
    import psycopg

    admin_url = re.sub(r"/[^/]*$", "/postgres", base_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", base_url)


@dataclass
class LabServer:
    url: str
    env: dict
    logs: Path
    processes: list = field(default_factory=list)

    def manage(self, *args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stderr}"
        return result.stdout

    def health(self):
        try:
            with urllib.request.urlopen(f"{self.url}/health/", timeout=5) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def wait_healthy(self, timeout=60):
        """Wait until /health/ is 200: database, channel layer, broker and a worker."""
        deadline = time.monotonic() + timeout
        status, body = None, None
        while time.monotonic() < deadline:
            try:
                status, body = self.health()
                if status == 200:
                    return body
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"lab never became healthy: {status} {body}\n{self.log_tail()}")

    def log_tail(self, lines=60):
        text = ""
        for log in sorted(self.logs.glob("*.log")):
            text += f"--- {log.name}\n" + "\n".join(log.read_text().splitlines()[-lines:]) + "\n"
        return text


def start(server, name, command):
    log = open(server.logs / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(command, cwd=ROOT, env=server.env, stdout=log, stderr=log)
    server.processes.append((process, log))
    return process


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    require(Path(CHROMIUM).exists(), "Debian's chromium at /usr/bin/chromium")
    data_dir = tmp_path_factory.mktemp("lab")
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "1",
        "LAB_DATA_DIR": str(data_dir),
        "LAB_HEARTBEAT_STALE_SECONDS": "15",
        "PYTHONUNBUFFERED": "1",
        "LAB_SHOWCASES": "0",  # a test trains the one showcase it needs (train_showcases)
    }
    if PROD_PASS:
        # named after the pass's own database, so two checkouts' test runs never share one
        base_name = env["DATABASE_URL"].rsplit("/", 1)[-1]
        env["DATABASE_URL"] = fresh_postgres_database(env["DATABASE_URL"], f"{base_name}_browser")
        env["LAB_CHANNEL_PREFIX"] = f"browser-{uuid.uuid4().hex[:8]}"
    else:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
    server = LabServer(url=f"http://127.0.0.1:{port}", env=env, logs=data_dir)
    server.manage("migrate", "--no-input")
    server.manage("load_packs")
    daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    start(server, "daphne", [*daphne, "microlab_site.asgi:application"])
    if PROD_PASS:
        start(server, "worker", celery_worker_command(concurrency=2, loglevel="INFO"))
    deadline = time.monotonic() + 30
    while True:
        try:
            server.health()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"daphne did not start\n{server.log_tail()}") from None
            time.sleep(0.2)
    yield server
    for process, log in server.processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    require(Path(CHROMIUM).exists(), "Debian's chromium at /usr/bin/chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, lab_server):
    """Open a fresh browser context (its own cookies): one per person in a test."""
    contexts = []

    def open_page(viewport=(1366, 900)):
        context = browser.new_context(
            base_url=lab_server.url, viewport={"width": viewport[0], "height": viewport[1]}
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def screenshot_folder():
    """Where this pass's screenshots go: test-output/screenshots/{embedded,prod}/."""
    folder = OUTPUT / "screenshots" / ("prod" if PROD_PASS else "embedded")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page, name):
    """Save a full-page screenshot under test-output/screenshots/ (pass-specific).

    A screenshot is for people to look at, not a check: when Chromium cannot give a frame in
    time (a page redrawing without pause on a loaded CI machine), the test goes on and the miss
    is listed in screenshots/missing.txt.

    Playwright's own full-page capture can hang Chromium past its timeout (seen in CI: a test
    stopped by pytest's 10-minute limit inside it), while a capture of the screen honours the
    timeout. So the page is brought to the front, the screen is made as tall as the page for
    the capture (as a full-page capture does itself), and set back after.
    """
    folder = screenshot_folder()
    path = folder / f"{name}.png"
    page.bring_to_front()
    screen = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    tall = min(height, FULL_PAGE_MAX_HEIGHT)
    try:
        if tall > screen["height"]:
            page.set_viewport_size({"width": screen["width"], "height": tall})
            page.wait_for_timeout(300)  # the charts redraw at the new size (after 100 ms)
        for animations in ("allow", "disabled"):
            try:
                page.screenshot(path=str(path), animations=animations, timeout=20_000)
                return path
            except PlaywrightTimeoutError as error:
                missed = error
    finally:
        if tall > screen["height"]:
            page.set_viewport_size(screen)
            page.wait_for_timeout(300)  # and back: the page as the test left it
    with (folder / "missing.txt").open("a") as missing:
        missing.write(f"{name}: {str(missed).splitlines()[0]}\n")
    warnings.warn(f"no screenshot {name}: Chromium gave no frame in time", stacklevel=2)
    return None


FULL_PAGE_MAX_HEIGHT = 8000  # px: a longer page is cut there


def choose_pack(page, label):
    """Pick a text on the new-run form as a person does, then wait until its settings have
    come back (the form reloads them 600 ms after the menu settles): fields typed into
    before that would race the reload."""
    # the form's page, loaded: right after the click that opens it, the menu may be on a page
    # whose scripts have not run yet, and a change before htmx binds it reloads nothing
    page.locator("#id_pack").wait_for()
    page.wait_for_load_state("load")
    page.evaluate("document.getElementById('pack-changed')?.remove()")
    before = page.locator("#id_pack").input_value()
    page.select_option("#id_pack", label=label)
    if page.locator("#id_pack").input_value() != before:
        page.locator("#pack-changed").wait_for()
        page.wait_for_function("!document.querySelector('#pack-fields.htmx-settling, "
                               "#pack-fields.htmx-swapping')")


def click_while_pushed(locator, attempts=5):
    """Click an element of a part the socket keeps re-rendering (a training run's row on the
    class panel) as a person does: where it is now, without waiting for it to stay put for
    two animation frames (force). A push can replace it between Playwright finding it and
    clicking it, which Playwright reports as "not visible" or "not attached" and does not
    retry when forced; then it is found again and clicked (no click was sent)."""
    for attempt in range(attempts):
        try:
            locator.click(force=True, timeout=10_000)
            return
        except PlaywrightError as error:
            moved = r"not visible|outside of the viewport|not attached|detached"
            replaced = re.search(moved, str(error))
            if attempt == attempts - 1 or not replaced:
                raise
            locator.page.wait_for_timeout(100)


def sign_up(page, username, password="a-long-pass-phrase-42"):
    page.goto("/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", password)
    page.fill("#id_password2", password)
    page.click("button[type=submit]")
    # a refused sign-up (say, a taken name) stays on the form: fail here, not later
    page.locator(".who", has_text=username).wait_for()


__all__ = [
    "IN_CI", "choose_pack", "click_while_pushed", "screenshot", "screenshot_folder", "sign_up",
]
