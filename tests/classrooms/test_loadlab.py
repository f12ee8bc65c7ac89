"""classrooms/loadlab.py: the LiveSocket holds a websocket as a browser does: it answers
the server's keep-alive pings (daphne drops a socket that does not, after ping interval +
timeout: load_site's viewers of a run that started late saw nothing) and keeps only the
text messages; what a panel load and a push cost are measured as the benchmarks print."""

import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from classrooms.loadlab import (
    LiveSocket,
    audience_figures,
    cores_used,
    machine_busy_seconds,
    panel_cpu,
    session_cpu,
    trained_figures,
)
from classrooms.management.commands.load_site import training_figures
from microlab_site.logs import JsonFormatter
from tests.classrooms.conftest import falling, make_run


def unmasked(mask, payload):
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_a_ping_is_answered_with_a_pong_and_not_kept():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    answered = {}

    def serve():
        conn, _ = server.accept()
        conn.settimeout(5)  # without a pong the test fails here, not at pytest's timeout
        reader = conn.makefile("rb")
        while reader.readline() not in (b"\r\n", b""):
            pass
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\n\r\n")
        conn.sendall(bytes([0x89, 4]) + b"beat")  # ping "beat"
        head = reader.read(2)
        mask = reader.read(4)
        payload = unmasked(mask, reader.read(head[1] & 0x7F))
        answered["frame"] = (head[0], head[1] & 0x80, payload)
        text = b"<div>push</div>"
        conn.sendall(bytes([0x81, len(text)]) + text)
        conn.sendall(bytes([0x88, 2]) + struct.pack(">H", 1000))  # close
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    viewer = LiveSocket("127.0.0.1", server.getsockname()[1], "/ws/runs/1/", "sessionid=x")
    viewer.start()
    viewer.join(timeout=10)
    thread.join(timeout=10)
    server.close()
    assert viewer.handshake == 101 and viewer.error is None
    assert answered["frame"] == (0x8A, 0x80, b"beat")  # a final, masked pong echoing it
    assert [text for _, text in viewer.pushes] == ["<div>push</div>"]


def audience_log(*figures):
    record = logging.makeLogRecord({"name": "runs.fanout", "levelno": logging.INFO,
                                    "levelname": "INFO", "msg": "audience saw the run end"})
    lines = []
    for run_id, renders, cpu, longest in figures:
        for key, value in {"run_id": run_id, "wakes": 9, "pushes": 9, "renders": renders,
                           "render_cpu_ms": cpu, "send_ms": 4.25,
                           "wake_to_sent_max_ms": longest}.items():
            setattr(record, key, value)
        lines.append(JsonFormatter().format(record))
    return "\n".join(["not json", *lines, '{"event": "other"}'])


def test_the_audience_figures_of_the_watched_run_are_read_from_the_server_log():
    text = audience_log((7, 3, 21.5, 100), (8, 12, 21.5, 120))
    figures = audience_figures([text], 8)
    assert (figures["renders"], figures["render_cpu_ms"]) == (12, 21.5)
    assert audience_figures([text], 9) is None


def test_several_server_processes_figures_add_up():
    """Each server process with viewers of the run logs its own audience: the counts add
    up, the CPU per render is the mean over all renders, the longest wait the longest."""
    first = audience_log((8, 12, 20.0, 100))
    second = audience_log((8, 4, 40.0, 250), (9, 1, 1.0, 1))
    figures = audience_figures([first, second, "nothing here"], 8)
    assert (figures["processes"], figures["wakes"], figures["renders"]) == (2, 18, 16)
    assert figures["render_cpu_ms"] == pytest.approx((12 * 20 + 4 * 40) / 16)
    assert figures["wake_to_sent_max_ms"] == 250 and figures["send_ms"] == 4.25


@pytest.mark.django_db
def test_panel_cpu_times_real_loads_of_the_panel(classroom, instructor, student):
    make_run(student, losses=falling(40), classroom=classroom)
    figures = panel_cpu(classroom, instructor, times=3)
    assert figures["cold_cpu_ms"] > 0 and figures["cpu_ms"] > 0
    assert figures["wall_ms"] >= figures["cpu_ms"] * 0.5  # wall time includes the CPU time


BURNER = """
import subprocess, sys, time
def burn(seconds):
    while time.process_time() < seconds:
        pass
    return time.process_time()
if sys.argv[1] == "parent":  # with a child in its session, as a Celery worker has its pool
    child = subprocess.Popen([sys.executable, sys.argv[0], "child"], stdout=subprocess.PIPE,
                             text=True)
    mine = burn(0.3)
    print(mine + float(child.stdout.readline()), flush=True)
else:
    print(burn(0.2), flush=True)
time.sleep(30)
"""


def test_session_cpu_counts_a_process_and_its_children_and_nothing_else(tmp_path):
    """The CPU seconds of a session (a lab process and its pool) against what the processes
    themselves measured (time.process_time); a process outside the session not counted."""
    script = tmp_path / "burn.py"
    script.write_text(BURNER)
    inside = subprocess.Popen([sys.executable, script, "parent"], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    outside = subprocess.Popen([sys.executable, script, "child"], stdout=subprocess.PIPE,
                               text=True)
    try:
        measured = float(inside.stdout.readline())  # once both have burned
        float(outside.stdout.readline())
        seconds = session_cpu([inside.pid, 424242])
        assert measured >= 0.5
        # the kernel counts in ticks of 10 ms and includes the interpreters' start
        assert measured - 0.05 <= seconds[inside.pid] <= measured + 0.3
        assert seconds[424242] == 0.0
    finally:
        os.killpg(inside.pid, signal.SIGKILL)
        outside.kill()
        for process in (inside, outside):
            process.wait()


def test_cores_used_between_two_times():
    samples = [(10.0, {"web": 1.0}), (10.2, {"web": 1.1}), (10.4, {"web": 1.3}),
               (10.6, {"web": 1.3})]
    assert cores_used(samples, 10.1, 10.5) == {"web": pytest.approx(0.2 / 0.4)}
    assert cores_used(samples, 10.5, 11.0) is None  # not sampled up to its end
    assert cores_used([], 0, 1) is None


def test_the_machine_busy_seconds_grow_with_work():
    before = machine_busy_seconds()
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    assert machine_busy_seconds() - before >= 0.15


def test_each_runs_training_cost_is_read_from_the_worker_logs():
    def line(run_id, cpu, wall):
        record = logging.makeLogRecord({
            "msg": "run trained", "name": "runs.training", "levelname": "INFO",
            "run_id": run_id, "step": 300, "cpu_s": cpu, "wall_s": wall,
        })
        return JsonFormatter().format(record)

    first = "\n".join(["celery banner", line(4, 1.0, 1.5), line(5, 9.0, 9.0)])
    second = "\n".join([line(5, 1.2, 1.9), "not json \"run trained\""])  # 5 resumed here
    assert trained_figures([first, second]) == {4: (1.0, 1.5), 5: (1.2, 1.9)}


def test_the_watched_runs_training_against_its_neighbours():
    trained = {1: (1.0, 2.0), 2: (1.0, 1.0), 3: (1.2, 1.4), 4: (0.8, 1.2)}
    figures = training_figures(trained, 1, [2, 3, 4, 99])
    assert figures == {"cpu_s": 1.0, "wall_s": 2.0, "peers_cpu_s": 1.0, "peers_wall_s": 1.2,
                       "peers": 3}
    assert training_figures(trained, 7, [2]) is None
    assert training_figures(trained, 1, []) is None
