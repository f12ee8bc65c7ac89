"""classrooms/loadlab.py's LiveSocket holds a websocket as a browser does: it answers the
server's keep-alive pings (daphne drops a socket that does not, after ping interval +
timeout: load_site's viewers of a run that started late saw nothing) and keeps only the
text messages."""

import socket
import struct
import threading

from classrooms.loadlab import LiveSocket


def unmasked(mask, payload):
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_a_ping_is_answered_with_a_pong_and_not_kept():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    answered = {}

    def serve():
        conn, _ = server.accept()
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
