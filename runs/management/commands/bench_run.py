"""`manage.py bench_run`: one max-config run through the real production stack.

It needs DATABASE_URL (PostgreSQL) and REDIS_URL. It starts its own Celery worker process
and a daphne server, connects one live viewer over a real websocket (autobahn, which daphne
installs) as the run's owner, submits a 2,000-step run at the max config, and waits for
run.completed. Then it times the engine alone on the same run (Trainer with capture off, in
this process) and sums what the run stored. The last line is key=value pairs:

    e2e_s=… engine_s=… ratio=… pushes=… stored_mb=…

By default the corpus is built from a pack's lines joined to at least 64 characters, so
every step trains on a full 64-token sequence (the costliest case, like engine.bench).
"""

import asyncio
import base64
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import override_settings

from engine import Trainer
from packs_app.models import Pack
from packs_app.sources import resolve_source
from runs.models import Kind, Run, WorkerHeartbeat
from runs.training import engine_settings
from runs.workers import celery_worker_command, collect_static, production_env

ROOT = Path(settings.BASE_DIR)
BENCH_USER = "bench"
BENCH_PACK = "bench-full-blocks"
MAX_CONFIG = {
    "n_embd": 64,
    "n_head": 4,
    "n_layer": 2,
    "block_size": 64,
    "num_steps": 2000,
    "learning_rate": 0.01,
    "temperature": 0.5,
    "seed": 42,
    "top_k": 5,
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def full_block_text(source_text, width=64):
    """Lines of `source_text` joined with spaces until each document has >= width chars."""
    docs, current = [], ""
    for line in source_text.splitlines():
        current = f"{current} {line}".strip()
        if len(current) >= width:
            docs.append(current)
            current = ""
    return "\n".join(docs)


class Viewer:
    """One live viewer on a real websocket: a minimal RFC 6455 client (asyncio streams) on
    its own thread, counting the pushes it receives. (autobahn's asyncio flavour cannot be
    used in a process where daphne has already chosen twisted.)"""

    def __init__(self, port, path, cookie):
        self.port, self.path, self.cookie = port, path, cookie
        self.pushes, self.bytes, self.finished_at, self.error = 0, 0, None, None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self.watch()), daemon=True)

    async def watch(self):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write(
                (
                    f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                    f"Origin: http://127.0.0.1:{self.port}\r\nCookie: {self.cookie}\r\n\r\n"
                ).encode()
            )
            response = await reader.readuntil(b"\r\n\r\n")
            if b" 101 " not in response.split(b"\r\n", 1)[0]:
                raise RuntimeError(f"handshake refused: {response[:80]!r}")
            while not self.stop.is_set():
                try:
                    opcode, payload = await asyncio.wait_for(self.frame(reader), 0.2)
                except TimeoutError:
                    continue
                if opcode == 8:
                    raise RuntimeError(f"socket closed by the server: {payload[:2].hex()}")
                if opcode == 9:  # ping -> pong (client frames are masked)
                    mask = os.urandom(4)
                    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                    writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
                elif opcode in (1, 2):
                    self.pushes += 1
                    self.bytes += len(payload)
                    if re.search(rb'data-status="(completed|failed|canceled)"', payload):
                        self.finished_at = self.finished_at or time.time()
            writer.close()
        except Exception as exc:
            self.error = repr(exc)

    @staticmethod
    async def frame(reader):
        """(opcode, payload) of the next whole message (continuations joined)."""
        opcode, payload, fin = None, b"", False
        while not fin:
            head = await reader.readexactly(2)
            fin, opcode = bool(head[0] & 0x80), opcode or head[0] & 0x0F
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack(">H", await reader.readexactly(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", await reader.readexactly(8))[0]
            payload += await reader.readexactly(length)
        return opcode, payload


class Command(BaseCommand):
    help = "Benchmark one max-config run end to end (PostgreSQL, Redis, Celery, daphne)."

    def add_arguments(self, parser):
        parser.add_argument("--steps", type=int, default=MAX_CONFIG["num_steps"])
        parser.add_argument("--sample-count", type=int, default=5)
        parser.add_argument("--sample-interval", type=int, default=200)
        parser.add_argument(
            "--pack", default="", help="train on this pack as it is (default: full blocks)"
        )
        parser.add_argument("--timeout", type=float, default=300)

    def handle(self, *args, **options):
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("bench_run needs DATABASE_URL (PostgreSQL) and REDIS_URL set.")
        call_command("migrate", verbosity=0)
        config = {
            **MAX_CONFIG,
            "num_steps": options["steps"],
            "sample_count": options["sample_count"],
            "sample_interval": options["sample_interval"],
        }
        user = self.bench_user()
        source = resolve_source(self.bench_pack(options["pack"]).slug, user, include_disabled=True)
        docs = source.documents
        mean = sum(len(d) for d in docs) / len(docs)
        self.say(f"corpus: {source.title}: {len(docs)} documents, mean {mean:.0f} characters")
        self.say(f"config: {config}")

        # its worker and server run as a hosted site's do (DEBUG off: no query log), whatever
        # DEBUG the shell has
        env = production_env()
        collect_static(env)
        processes = []
        try:
            worker = self.start(
                processes,
                celery_worker_command(f"bench-{os.getpid()}@%h"),
                env,
            )
            port = free_port()
            self.start(
                processes,
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "microlab_site.asgi:application",
                ],
                env,
            )
            self.wait_for_worker(worker)
            self.wait_for_port(port)

            submitted = time.time()
            run = Run.objects.start(user, source, config, max_active=10**6)
            viewer = Viewer(
                port,
                f"/ws/runs/{run.pk}/",
                f"{settings.SESSION_COOKIE_NAME}={self.session_key(user, env['SECRET_KEY'])}",
            )
            viewer.thread.start()
            deadline = time.monotonic() + options["timeout"]
            while Run.objects.filter(pk=run.pk).active().exists():
                if time.monotonic() > deadline:
                    raise CommandError(f"run {run.pk} did not finish in {options['timeout']} s")
                time.sleep(0.05)
            deadline = time.monotonic() + 3
            while viewer.finished_at is None and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)  # a late coalesced push still counts
            viewer.stop.set()
            viewer.thread.join(5)
            if viewer.error:
                raise CommandError(f"viewer: {viewer.error}")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()

        run.refresh_from_db()
        if run.status != Run.Status.COMPLETED:
            raise CommandError(f"run {run.pk} ended {run.status}: {run.error}")
        completed = run.events.get(kind=Kind.COMPLETED).created_at.timestamp()
        e2e = completed - submitted
        seen = f"{viewer.finished_at - submitted:.2f} s" if viewer.finished_at else "never"
        self.say(
            f"run {run.pk}: submit -> run.completed {e2e:.2f} s (queue wait "
            f"{run.started_at.timestamp() - submitted:.2f} s, training "
            f"{completed - run.started_at.timestamp():.2f} s); the viewer saw it: {seen}"
        )
        self.say(f"viewer: {viewer.pushes} pushes, {viewer.bytes / 1e6:.2f} MB")

        engine_s = self.bare_engine_seconds(docs, config)
        self.say(
            f"engine alone (capture off, same config and samples, best of 2): {engine_s:.2f} s"
        )
        stored = self.stored_bytes(run)
        self.say(
            "stored: "
            + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in stored.items())
            + f"; snapshots at {run.snapshot_steps()}"
        )
        total = sum(stored.values())
        self.say(
            f"e2e_s={e2e:.2f} engine_s={engine_s:.2f} ratio={e2e / engine_s:.2f} "
            f"pushes={viewer.pushes} stored_mb={total / 1e6:.2f}"
        )

    # --- helpers -----------------------------------------------------------------------------

    def say(self, line):
        self.stdout.write(line)
        self.stdout.flush()

    def bench_user(self):
        user, created = get_user_model().objects.get_or_create(username=BENCH_USER)
        if created:
            user.set_unusable_password()
            user.save()
        return user

    def bench_pack(self, slug):
        if slug:
            pack = Pack.objects.filter(slug=slug).first()
            if pack is None:
                raise CommandError(f"no pack {slug!r} (run manage.py load_packs?)")
            return pack
        base = Pack.objects.filter(slug="sql_snippets").first() or Pack.objects.first()
        if base is None:
            call_command("load_packs", verbosity=0)
            base = Pack.objects.filter(slug="sql_snippets").first() or Pack.objects.first()
        text = full_block_text(base.text)
        pack, _ = Pack.objects.update_or_create(
            slug=BENCH_PACK,
            defaults={
                "title": f"Benchmark: {base.title}, full blocks",
                "teaches": "Benchmark corpus (not offered to students).",
                "text": text,
                "adherence_pattern": "",
                "enabled": False,
            },
        )
        return pack

    def session_key(self, user, secret_key):
        """A session for `user` on the benchmark's server (its session hash is keyed by the
        server's SECRET_KEY, not this process's)."""
        with override_settings(SECRET_KEY=secret_key):  # the session data is signed too
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.save()
        return session.session_key

    def start(self, processes, command, env):
        process = subprocess.Popen(command, cwd=ROOT, env=env)
        processes.append(process)
        return process

    def wait_for_worker(self, worker, timeout=60):
        name = f"celery@{socket.gethostname()}:{worker.pid}"
        deadline = time.monotonic() + timeout
        while not WorkerHeartbeat.objects.filter(name=name).exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise CommandError("the Celery worker did not start")
            time.sleep(0.1)

    def wait_for_port(self, port, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise CommandError("daphne did not start")

    def bare_engine_seconds(self, docs, config, repeats=2):
        """The engine alone on the same run: the best of `repeats` (the machine is shared)."""
        times = []
        for _ in range(repeats):
            trainer = Trainer(docs, **engine_settings(config), capture=False)
            started = time.perf_counter()
            while not trainer.done:
                trainer.step()
            times.append(time.perf_counter() - started)
        return min(times)

    def stored_bytes(self, run):
        """Bytes the run's rows take in the database (PostgreSQL: as stored, compressed)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT kind, SUM(pg_column_size(data)) + COUNT(*) * 40 FROM runs_runevent "
                "WHERE run_id = %s GROUP BY kind",
                [run.pk],
            )
            sizes = {kind: int(size) for kind, size in cursor.fetchall()}
            cursor.execute(
                "SELECT COALESCE(SUM(pg_column_size(blob)), 0) FROM runs_runcheckpoint "
                "WHERE run_id = %s",
                [run.pk],
            )
            sizes["checkpoints"] = int(cursor.fetchone()[0])
        return dict(sorted(sizes.items(), key=lambda item: -item[1]))
