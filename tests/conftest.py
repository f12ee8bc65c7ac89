"""Shared fixtures: the four people every view is tested for, and the real services.

The suite runs twice (see the Makefile): the embedded pass (SQLite, in-memory channel
layer, in-process workers) runs everything; the production pass (LAB_TEST_PASS=prod:
PostgreSQL, Redis, a Celery worker process) runs the tests marked `services`. Outside CI a
missing service skips what needs it, with the reason; under CI=true it is a failure.
"""

import os
import socket
import sys
from urllib.parse import urlparse

import pytest

from common.roles import make_instructor

IN_CI = os.environ.get("CI", "").lower() in ("1", "true")
PROD_PASS = os.environ.get("LAB_TEST_PASS") == "prod"
PASSWORD = "correct-horse-battery-staple"


def reachable(url, default_port):
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def missing_services():
    missing = []
    if PROD_PASS:
        if not reachable(os.environ.get("DATABASE_URL", ""), 5432):
            missing.append("PostgreSQL at DATABASE_URL")
        if not reachable(os.environ.get("REDIS_URL", ""), 6379):
            missing.append("Redis at REDIS_URL")
    return missing


def pytest_collection_modifyitems(config, items):
    # Browser tests last: Playwright's sync API keeps an event loop running in the main
    # thread once started, and Django refuses database calls from inside one.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    missing = missing_services()
    if not missing:
        return
    reason = "not reachable: " + ", ".join(missing)
    if IN_CI:
        pytest.exit(f"CI needs the real services, {reason}", returncode=3)
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))


def require(condition, reason):
    """Skip outside CI, fail in CI, when a real dependency is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI needs {reason}")
    pytest.skip(reason)


@pytest.fixture
def make_user(db, django_user_model):
    def make(username, *, instructor=False):
        user = django_user_model.objects.create_user(username=username, password=PASSWORD)
        if instructor:
            make_instructor(user)
        return user

    return make


@pytest.fixture
def student(make_user):
    return make_user("student")


@pytest.fixture
def classmate(make_user):
    return make_user("classmate")


@pytest.fixture
def instructor(make_user):
    return make_user("instructor", instructor=True)


@pytest.fixture
def outsider(make_user):
    return make_user("outsider")


@pytest.fixture(autouse=True)
def no_showcase_training(settings):
    """`load_packs` trains six showcase runs for real; tests that want them ask for them
    (tests/runs/test_showcase.py)."""
    settings.LAB_SHOWCASES = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """After a test's body, before its fixtures (the database) are torn down: let the
    renders still running in the sockets' threads end (common.sockets)."""
    yield
    sockets = sys.modules.get("common.sockets")
    if sockets is not None:
        sockets.wait_for_socket_threads()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and at the end of the session: the connections that the
    sockets' and sync_to_async's threads opened (one per thread, never closed by them) are
    ended first, so the test database can be dropped (PostgreSQL refuses while they are
    open: "database ... is being accessed by other users")."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
