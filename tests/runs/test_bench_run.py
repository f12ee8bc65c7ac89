"""manage.py bench_run measures the production stack only; its corpus fills every block."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from runs.management.commands.bench_run import full_block_text


def test_refuses_without_postgresql_and_redis(db, settings):
    if connection.vendor == "postgresql":
        settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="needs DATABASE_URL"):
        call_command("bench_run")


def test_full_block_text_joins_lines_to_the_block_size():
    docs = full_block_text("\n".join(["abcdefghij"] * 20), width=32).splitlines()
    assert docs and all(len(doc) >= 32 for doc in docs)
