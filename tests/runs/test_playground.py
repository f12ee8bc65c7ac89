"""runs/playground.py: the prompt's reading, generation, "you vs the model", and who may
use them."""

import re

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs.models import PlaygroundScore, Run
from runs.playground_game import held_out_lines, round_items
from runs.playground_model import CACHE, model_for
from runs.training import train_run
from tests.conftest import PASSWORD

TWO_LAYERS = {"n_layer": 2, "num_steps": 12, "snapshot_interval": 4}


@pytest.fixture
def run(student, start_run, classroom):
    """A finished 2-layer run of `student`, not shared with the classroom."""
    run = start_run(student, **TWO_LAYERS)
    assert train_run(run.pk, "test-worker")
    CACHE.clear()
    return Run.objects.get(pk=run.pk)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def url(name, run, **query):
    base = reverse(f"runs:{name}", args=[run.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_smoke(client, student, run):
    login(client, student)
    r = client.get(url("playground", run))
    assert r.status_code == 200, r.content.decode()[:2000]
    open("/tmp/pg/page.html", "w").write(r.content.decode())
    r = client.get(url("playground_predict", run, text="1%2B2", step=12))
    assert r.status_code == 200, r.content.decode()
    r = client.get(url("playground_generate", run, text="1%2B2", mode="end"))
    assert r.status_code == 200, r.content.decode()
    print(r.content.decode())
