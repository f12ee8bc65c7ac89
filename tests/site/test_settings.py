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


STRONG_KEY = "k3y-" + "0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP"


def test_production_starts_with_a_strong_secret_key():
    result = django_setup(DEBUG="0", SECRET_KEY=STRONG_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_debug_is_off_unless_explicitly_on():
    assert django_setup(SECRET_KEY=STRONG_KEY).stdout.strip() == "False"
    assert django_setup(DEBUG="1").stdout.strip() == "True"


def test_production_refuses_a_weak_secret_key():
    weak = [
        "x",
        "x" * 50,
        "dev-only-insecure-key-never-use-in-production",
        "django-insecure-" + "a" * 40,
    ]
    for key in weak:
        result = django_setup(DEBUG="0", SECRET_KEY=key)
        assert result.returncode != 0, key
        assert "SECRET_KEY is weak" in result.stderr


def test_the_production_recipe_passes_check_deploy():
    """The README's recipe: HSTS and the SSL redirect on by default, nothing to warn about."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")},
            "DJANGO_SETTINGS_MODULE": "microlab_site.settings",
            "DEBUG": "0",
            "SECRET_KEY": STRONG_KEY,
            "ALLOWED_HOSTS": "lab.example.org",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_turn_on_hsts_and_the_ssl_redirect():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.SESSION_COOKIE_SECURE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")},
            "DJANGO_SETTINGS_MODULE": "microlab_site.settings",
            "DEBUG": "0",
            "SECRET_KEY": STRONG_KEY,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True", "True", "True"], result.stderr


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


def test_setup_db_seeds_no_demo_accounts_in_production(db, django_user_model):
    """`make setup-db` runs seed_demo in both modes: with DEBUG off it says why and succeeds."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("seed_demo", stdout=out)  # pytest-django runs with DEBUG off
    assert "No demo accounts: DEBUG is off" in out.getvalue()
    assert not django_user_model.objects.filter(username__startswith="demo-").exists()
