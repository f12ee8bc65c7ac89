"""A whole lab on this machine for load checks and fault tests: daphne and Celery workers
as separate processes (each in its own process group, so a worker can be killed whole
and started again), and bare-bones websocket viewers that note when each push arrived.

Used by `manage.py load_classroom`, `manage.py load_site` and tests/reliability.
"""

import base64
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from runs.workers import celery_worker_command, collect_static, production_env


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def panel_cpu(classroom, instructor, times=10):
    """What one load of the instructor's panel costs this process, whatever else the machine
    runs: {"cold_cpu_ms": the first load (nothing kept yet, as a freshly started server),
    "cpu_ms": the median of `times` more (time.thread_time: this thread's CPU only, the
    database's work not included), "wall_ms": their median wall time}."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(instructor)
    path = reverse("classrooms:detail", args=[classroom.pk])

    def once():
        cpu, wall = time.thread_time(), time.perf_counter()
        status = client.get(path).status_code
        if status != 200:
            raise CommandError(f"the panel answered {status}")
        return 1000 * (time.thread_time() - cpu), 1000 * (time.perf_counter() - wall)

    cold, _ = once()
    loads = [once() for _ in range(times)]
    return {
        "cold_cpu_ms": cold,
        "cpu_ms": statistics.median(cpu for cpu, _ in loads),
        "wall_ms": statistics.median(wall for _, wall in loads),
    }


def audience_figures(log_texts, run_id):
    """The audience figures (runs/fanout.py) the servers logged for run `run_id` when it
    ended, over every server process that had viewers of it: wake-ups received, pushes and
    renders (summed), CPU ms per render, ms handing a push to its sockets and from a
    wake-up to its push sent (averaged, weighted), the longest of those. None when none
    logged any."""
    found = [f for f in (audience_figures_of(text, run_id) for text in log_texts) if f]
    if not found:
        return None
    total = {
        key: sum(f.get(key, 0) for f in found)
        for key in ("wakes", "pushes", "renders", "renders_shared")
    }

    def mean(key, weight):
        weights = sum(f.get(weight, 0) for f in found) or 1
        return sum(f.get(key, 0) * f.get(weight, 0) for f in found) / weights

    return {
        **total,
        "processes": len(found),
        "render_cpu_ms": mean("render_cpu_ms", "renders"),
        "render_wall_ms": mean("render_wall_ms", "pushes"),
        "send_ms": mean("send_ms", "pushes"),
        "wake_to_sent_ms": mean("wake_to_sent_ms", "pushes"),
        "wake_to_sent_max_ms": max(f.get("wake_to_sent_max_ms", 0) for f in found),
        "wake_delivery_ms": mean("wake_delivery_ms", "wakes"),
        "wake_delivery_max_ms": max(f.get("wake_delivery_max_ms", 0) for f in found),
    }


def log_records(log_text, event):
    """The JSON log records (microlab_site.logs) of `event` in a process's log, in order;
    anything else in the log (banners, tracebacks) skipped."""
    for line in log_text.splitlines():
        if f'"{event}"' in line:
            try:
                yield json.loads(line)
            except ValueError:
                continue


def audience_figures_of(log_text, run_id):
    found = [r for r in log_records(log_text, "audience saw the run end")
             if r.get("run_id") == run_id]
    return found[-1] if found else None


def trained_figures(log_texts):
    """{run_id: (CPU seconds, wall seconds)} of each run a worker trained to its end, from
    the workers' "run trained" log lines (a run trained twice, resumed: its last)."""
    return {
        record["run_id"]: (record["cpu_s"], record["wall_s"])
        for text in log_texts
        for record in log_records(text, "run trained")
    }


def session_cookie(user, secret_key=None):
    """(Cookie header, CSRF token) of a fresh session for `user`, signed with `secret_key`
    (the server's, when it is not this process's)."""
    from django.test import override_settings

    client = Client()
    with override_settings(SECRET_KEY=secret_key or settings.SECRET_KEY):
        client.force_login(user)
    csrf = secrets.token_hex(16)  # a 32-character secret, sent as cookie and header
    return f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}", csrf


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def processes():
    """(pid, session id, CPU seconds so far) of every process on this machine (/proc)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:  # gone meanwhile
            continue
        fields = text[text.rindex(")") + 2 :].split()  # from field 3 (state) on
        yield int(entry.name), int(fields[3]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def session_cpu(sessions):
    """{session id: CPU seconds (user + system) of the processes living in it now}: what
    `ps` calls TIME, summed over a process and its children (a Celery worker's pool)."""
    totals = dict.fromkeys(sessions, 0.0)
    for _, session, seconds in processes():
        if session in totals:
            totals[session] += seconds
    return totals


def machine_busy_seconds():
    """CPU seconds every core of this machine has spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


def cores_used(samples, start, end):
    """{role: cores busy on average} between wall times `start` and `end` (time.time()), from
    `samples` [(time, {role: CPU seconds so far})] taken at least every few tenths of a
    second: the first sample at or after each end. None if the window was not sampled."""
    after = [sample for sample in samples if sample[0] >= start]
    later = [sample for sample in samples if sample[0] >= end]
    if not after or not later or later[0][0] <= after[0][0]:
        return None
    (t0, first), (t1, last) = after[0], later[0]
    return {role: (last[role] - first[role]) / (t1 - t0) for role in first}


class Lab:
    """daphne and the Celery workers, as separate processes, with their logs."""

    def __init__(self, port, workers, log_dir, env=None, production=False, web_processes=1):
        self.url = f"127.0.0.1:{port}"
        self.web_processes = web_processes
        self.listeners = []
        self.port, self.workers, self.log_dir = port, workers, log_dir
        # production: as `make run-prod` serves (DEBUG off), plain http on loopback
        self.env = production_env() if production else {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.env.update(env or {})
        self.production = production
        self.processes = {}  # name -> (Popen, log file)

    def session_cookie(self, user):
        """session_cookie for this lab's server (its own SECRET_KEY in production mode)."""
        return session_cookie(user, self.env.get("SECRET_KEY") if self.production else None)

    def start(self):
        python = sys.executable
        if self.production:
            collect_static(self.env)
        if self.web_processes == 1:
            daphne = [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
            self.spawn("daphne", [*daphne, "microlab_site.asgi:application"])
        for number in range(1, self.web_processes + 1) if self.web_processes > 1 else ():
            # several server processes on one port, as behind a load balancer: a socket
            # each, bound with SO_REUSEPORT, so the kernel spreads the connections evenly
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(1024)
            listener.set_inheritable(True)
            self.listeners.append(listener)
            daphne = [python, "-m", "daphne", "--fd", str(listener.fileno())]
            self.spawn(
                f"daphne{number}", [*daphne, "microlab_site.asgi:application"],
                pass_fds=(listener.fileno(),),
            )
        for i in range(self.workers):
            self.start_worker(i + 1)

    def start_worker(self, number):
        name = f"worker{number}"
        # at INFO: each run's "run trained" line (its CPU and wall seconds) is read back
        command = celery_worker_command(f"lab{number}-{os.getpid()}@%h", loglevel="INFO")
        self.spawn(name, command, mode="a")
        return name

    def spawn(self, name, command, mode="w", pass_fds=()):
        log = open(self.log_dir / f"{name}.log", mode)  # noqa: SIM115 (closed in stop)
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill_worker ends it whole
            pass_fds=pass_fds,
        )
        self.processes[name] = (process, log)

    def cpu_seconds(self):
        """{"web": CPU seconds of the server processes, "workers": of the worker processes
        and their pools}, as they are now (a killed worker's seconds go with it)."""
        roles = {
            process.pid: "web" if name.startswith("daphne") else "workers"
            for name, (process, _) in list(self.processes.items())  # (a worker restarts)
        }
        totals = {"web": 0.0, "workers": 0.0}
        for session, seconds in session_cpu(roles).items():
            totals[roles[session]] += seconds
        return totals

    def worker_pids(self, number):
        """The process ids of worker `number` and its pool (its session)."""
        process, _ = self.processes[f"worker{number}"]
        return {pid for pid, session, _ in processes() if session == process.pid}

    def kill_worker(self, number):
        """SIGKILL a worker and its pool children at once, as a lost machine would."""
        process, log = self.processes.pop(f"worker{number}")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()

    def log_text(self, name):
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def worker_logs(self):
        """The log text of each worker (a restarted worker appends to its log)."""
        return [self.log_text(f"worker{number}") for number in range(1, self.workers + 1)]

    def server_logs(self):
        """The log text of each server (daphne) process."""
        names = ["daphne"] if self.web_processes == 1 else [
            f"daphne{number}" for number in range(1, self.web_processes + 1)
        ]
        return [self.log_text(name) for name in names]

    def wait_healthy(self, timeout=90):
        deadline = time.monotonic() + timeout
        detail = ""
        while time.monotonic() < deadline:
            for name, (process, _) in self.processes.items():
                if process.poll() is not None:
                    raise CommandError(f"{name} exited early; see {self.log_dir}")
            try:
                status, body = self.request("GET", "/health/")
                detail = body[:300]
                if status == 200:  # /health/ answers 503 until a worker beats
                    return
            except OSError as exc:
                detail = repr(exc)
            time.sleep(0.5)
        raise CommandError(f"the lab never became healthy: {detail}")

    def start_run(self, form):
        """POST the new-run form as a student's browser does: `form` is ((cookie, csrf), body).
        Returns (status, text)."""
        (cookie, csrf), body = form
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": csrf}
        return self.request("POST", "/runs/new/", cookies=cookie, body=body, headers=headers)

    def request(self, method, path, *, cookies="", body=None, headers=None):
        connection = http.client.HTTPConnection(self.url, timeout=30)
        try:
            all_headers = {"Cookie": cookies, **(headers or {})}
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def stop(self):
        for process, _ in self.processes.values():
            process.terminate()
        for process, log in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()
        self.processes.clear()
        for listener in self.listeners:
            listener.close()
        self.listeners.clear()


class LiveSocket(threading.Thread):
    """A websocket held open as a browser holds it: a bare-bones RFC 6455 client
    (handshake, then read frames, answering the server's pings as a browser does) that
    keeps every text push with the time it arrived. `handshake` is the HTTP status line's
    code (101 when the socket opened)."""

    def __init__(self, host, port, path, cookie):
        super().__init__(daemon=True)
        self.host, self.port, self.path, self.cookie = host, port, path, cookie
        self.pushes = []  # [(time.time() on arrival, text)]
        self.bytes, self.error, self.handshake = 0, None, None
        self.opened_at = None  # time.time() when the server answered the handshake
        self.opened = threading.Event()
        self.sock = None
        self.closing = False
        self.sending = threading.Lock()

    def run(self):
        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=120)
            key = base64.b64encode(os.urandom(16)).decode()
            self.sock.sendall(
                (
                    f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                    f"Origin: http://{self.host}:{self.port}\r\nCookie: {self.cookie}\r\n\r\n"
                ).encode()
            )
            reader = self.sock.makefile("rb")
            status = reader.readline()
            self.handshake = int(status.split()[1]) if len(status.split()) > 1 else None
            self.opened_at = time.time()
            self.opened.set()
            if self.handshake != 101:
                raise ConnectionError(f"no websocket: {status!r}")
            while reader.readline() not in (b"\r\n", b""):
                pass
            self.sock.settimeout(None)  # a watched run may wait in the queue for minutes
            message = b""
            while True:
                head = reader.read(2)
                if len(head) < 2:
                    return
                fin, opcode, length = head[0] & 0x80, head[0] & 0x0F, head[1] & 0x7F
                if length == 126:
                    length = struct.unpack(">H", reader.read(2))[0]
                elif length == 127:
                    length = struct.unpack(">Q", reader.read(8))[0]
                payload = reader.read(length)
                if opcode == 8:  # closed by the server
                    return
                if opcode == 9:  # daphne's keep-alive: a socket that does not answer is
                    self.send_frame(0xA, payload)  # dropped after ping interval + timeout
                    continue
                if opcode == 0xA:
                    continue
                self.bytes += length
                message += payload
                if fin and opcode in (0, 1):
                    self.pushes.append((time.time(), message.decode("utf-8", "replace")))
                    message = b""
        except (OSError, ValueError) as exc:
            if not self.closing:
                self.error = exc
        finally:
            self.opened.set()

    def send_frame(self, opcode, payload):
        """One masked frame from this client (RFC 6455: a client masks what it sends)."""
        mask = os.urandom(4)
        head = bytes([0x80 | opcode])
        if len(payload) < 126:
            head += bytes([0x80 | len(payload)])
        else:
            head += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        with self.sending:
            self.sock.sendall(head + mask + masked)

    def saw(self, text):
        return any(text in push for _, push in self.pushes)

    def close(self):
        self.closing = True
        if self.sock is not None:
            self.sock.close()
