"""Production settings are safe by default: no SECRET_KEY, no start; Sentry and JSON logs."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from microlab_site.logs import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


def django_setup(**env):
    """Import the settings in a fresh interpreter with this environment."""
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "microlab_site.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = django_setup(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_starts_with_a_secret_key():
    result = django_setup(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_sentry_is_initialised_when_a_dsn_is_set():
    code = (
        "import django; django.setup(); import sentry_sdk; "
        "print(sentry_sdk.get_client().is_active())"
    )
    for dsn, expected in (("https://key@sentry.invalid/1", "True"), ("", "False")):
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "microlab_site.settings",
                "SENTRY_DSN": dsn,
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.strip() == expected, result.stderr


def test_log_lines_are_json_with_ids_and_never_secrets():
    record = logging.makeLogRecord(
        {"name": "runs.training", "levelname": "INFO", "msg": "run claimed", "args": ()}
    )
    record.run_id, record.user_id, record.password, record.text = 7, 3, "hunter2", "upload body"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    event = json.loads(line)
    assert event["event"] == "run claimed" and event["run_id"] == 7 and event["user_id"] == 3
    assert "hunter2" not in line and "upload body" not in line
