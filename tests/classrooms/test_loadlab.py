"""classrooms/loadlab.py: the LiveSocket holds a websocket as a browser does: it answers
the server's keep-alive pings (daphne drops a socket that does not, after ping interval +
timeout: load_site's viewers of a run that started late saw nothing) and keeps only the
text messages; what a panel load and a push cost are measured as the benchmarks print."""

import logging
import socket
import struct
import threading

import pytest

from classrooms.loadlab import LiveSocket, audience_figures, panel_cpu
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
