"""What `make run` prints first (microlab_site/launch.py): where to open the lab, the demo
accounts, and a clear refusal when the port is taken."""

import socket
import subprocess
import sys
from pathlib import Path

from microlab_site import launch

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_first_lines_say_where_to_open_the_lab_and_the_demo_accounts(capsys):
    port = free_port()
    assert launch.main(["--port", str(port)]) == 0
    first, accounts, _ = capsys.readouterr().out.splitlines()
    assert f"open http://127.0.0.1:{port}/" in first
    assert "demo-instructor (instructor)" in accounts and "demo-student (student)" in accounts
    assert "'microlab-demo'" in accounts


def test_a_taken_port_stops_it_with_what_to_do_instead(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert launch.main(["--port", str(port)]) == 1
    message = capsys.readouterr().err
    assert f"Port {port} is already in use" in message
    assert f"make run PORT={port + 1}" in message


def test_a_port_that_is_not_a_number(capsys):
    assert launch.main(["--port", "eighty"]) == 2
    assert "PORT=eighty is not a number" in capsys.readouterr().err
    assert launch.main(["--port", "70000"]) == 1
    assert "not a port number" in capsys.readouterr().err


def test_make_run_stops_before_any_setup_when_the_port_is_taken():
    """Through make itself, as a newcomer runs it: the message, and nothing else started."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            ["make", "--no-print-directory", "run", f"PORT={port}", f"PYTHON={sys.executable}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"Port {port} is already in use" in result.stderr
    assert "migrate" not in result.stdout + result.stderr


def test_seed_demo_creates_the_accounts_launch_announces(db, settings):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    names = set(get_user_model().objects.values_list("username", flat=True))
    assert {name for name, _ in launch.DEMO_ACCOUNTS} <= names
