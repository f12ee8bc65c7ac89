"""Oversized request bodies are refused before they are read (microlab_site/body_limits.py):
in the ASGI guard, and in daphne itself, whose memory stays flat under a 200 MB POST."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from microlab_site.body_limits import BodyLimitMiddleware, body_limit

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


class InnerApp:
    """Stands for the site: records whether it was called and what it read."""

    def __init__(self):
        self.called, self.read = False, b""

    async def __call__(self, scope, receive, send):
        self.called = True
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # as Django does: a client gone gets no answer
            self.read += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def http_scope(path, length=None):
    headers = [(b"content-length", str(length).encode())] if length is not None else []
    return {"type": "http", "method": "POST", "path": path, "headers": headers}


async def answer(communicator):
    start = await communicator.receive_output(5)
    body = await communicator.receive_output(5)
    return start["status"], body["body"].decode()


def test_limits_per_kind_of_url(settings):
    # a file a little over the upload rule still reaches the page that explains the rule
    assert body_limit("/packs/upload/") > 2 * settings.LAB_UPLOAD_MAX_BYTES
    assert body_limit("/admin/packs_app/pack/add/") == body_limit("/packs/upload/")
    assert body_limit("/accounts/login/") == settings.LAB_FORM_MAX_BYTES == 64 * 1024


def test_a_declared_length_over_the_limit_is_refused_without_reading(db):
    async_to_sync(check_a_declared_length_over_the_limit_is_refused_without_reading)()


async def check_a_declared_length_over_the_limit_is_refused_without_reading():
    inner = InnerApp()
    scope = http_scope("/accounts/login/", 200 * MB)
    communicator = ApplicationCommunicator(BodyLimitMiddleware(inner), scope)
    # no body is ever sent: the answer must come from the headers alone
    status, body = await answer(communicator)
    assert status == 413
    assert "at most 64 KB for a form" in body and "Nothing was stored" in body
    assert not inner.called


def test_a_streamed_body_is_cut_off_at_the_limit(db):
    async_to_sync(check_a_streamed_body_is_cut_off_at_the_limit)()


async def check_a_streamed_body_is_cut_off_at_the_limit():
    inner = InnerApp()
    communicator = ApplicationCommunicator(BodyLimitMiddleware(inner), http_scope("/packs/upload/"))
    for _ in range(3):
        await communicator.send_input(
            {"type": "http.request", "body": b"a" * 400_000, "more_body": True}
        )
    status, body = await answer(communicator)
    assert status == 413
    assert "at most 200 KB (204,800 bytes) for an uploaded file" in body
    assert len(inner.read) <= body_limit("/packs/upload/")


def test_a_body_within_the_limit_reaches_the_site(db):
    async_to_sync(check_a_body_within_the_limit_reaches_the_site)()


async def check_a_body_within_the_limit_reaches_the_site():
    inner = InnerApp()
    scope = http_scope("/accounts/login/", 10)
    communicator = ApplicationCommunicator(BodyLimitMiddleware(inner), scope)
    await communicator.send_input({"type": "http.request", "body": b"0123456789"})
    assert await answer(communicator) == (200, "ok")
    assert inner.read == b"0123456789"


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def daphne(tmp_path):
    """A real daphne serving the site (embedded mode) on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DEBUG": "1", "LAB_DATA_DIR": str(tmp_path), "LAB_EMBEDDED_WORKERS": "0"}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    log = open(tmp_path / "daphne.log", "w")  # noqa: SIM115 (closed below)
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(
        [*command, "microlab_site.asgi:application"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield process, port
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def post_headers(path, extra):
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{extra}\r\n"
    ).encode()


@pytest.mark.services
def test_daphne_refuses_200_mb_without_growing(daphne):
    process, port = daphne
    before = rss_mb(process.pid)
    # declared: answered from the headers, before a byte of the body is sent
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(post_headers("/accounts/login/", f"Content-Length: {200 * MB}\r\n"))
        assert sock.recv(100).startswith(b"HTTP/1.1 413")
    # streamed without a length: cut off, the connection closed, 200 MB never read
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(post_headers("/packs/upload/", "Transfer-Encoding: chunked\r\n"))
        chunk = b"a" * MB
        try:
            for _ in range(200):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += 1
        except OSError:
            pass  # the server closed the connection: what we want
        assert sock.recv(100).startswith(b"HTTP/1.1 413")
    after = rss_mb(process.pid)
    print(f"daphne RSS before={before:.0f}MB after={after:.0f}MB streamed_before_cutoff={sent}MB")
    assert sent < 200
    assert after - before < 20
