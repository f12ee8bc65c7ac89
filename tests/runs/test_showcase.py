"""Showcase runs (runs/showcase.py): one per built-in pack, trained when the packs are loaded,
deterministic, explorable by anyone (anonymous too), changeable by nobody, counted nowhere."""

import math
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from engine import Trainer
from packs_app.builtin import BUILTIN_PACKS
from packs_app.builtin import configs as builtin_configs
from packs_app.models import Pack
from runs import showcase
from runs.evaluation import Evaluator
from runs.models import Kind, Run
from runs.permissions import can_cancel, can_change, can_view
from runs.retention import purge_expired
from runs.training import train_run
from tests.runs.conftest import TINY
from tests.sockets import first_message

# services too: the showcase's queries and its socket on PostgreSQL as well
pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def tiny_recommended(monkeypatch, settings):
    """Every built-in pack recommends a tiny config, so six showcases train in a blink; and
    load_packs trains them (the suite turns that off elsewhere)."""
    settings.LAB_SHOWCASES = True
    for slug in BUILTIN_PACKS:
        monkeypatch.setitem(builtin_configs.RECOMMENDED_CONFIGS, slug, dict(TINY))


@pytest.fixture
def showcases(tiny_recommended):
    call_command("load_packs", verbosity=0)
    return {run.pack.slug: run for run in Run.objects.filter(showcase=True).select_related("pack")}


def test_load_packs_trains_one_showcase_per_pack_once(showcases):
    assert set(showcases) == set(BUILTIN_PACKS)
    for run in showcases.values():
        assert run.status == Run.Status.COMPLETED and run.current_step == TINY["num_steps"]
        assert run.config == TINY and run.owner.username == showcase.OWNER_USERNAME
    owner = showcases["json"].owner
    assert not owner.is_active and not owner.has_usable_password()
    call_command("load_packs", verbosity=0)  # trained once: loading again trains nothing
    assert set(Run.objects.filter(showcase=True).values_list("pk", flat=True)) == {
        run.pk for run in showcases.values()
    }


def test_a_showcase_is_the_engine_run_of_its_pack_bit_for_bit(showcases):
    """Deterministic: the stored losses are the engine's own, trained apart from the lab."""
    run = showcases["arithmetic"]
    split = Evaluator(BUILTIN_PACKS["arithmetic"].lines(), TINY)  # the held-out lines apart
    trainer = Trainer(split.train_docs, **TINY, capture=False, held_out=split.held_docs)
    assert run.step_series()["loss"] == [record.loss for record in trainer]


def test_a_changed_pack_gets_a_new_showcase_and_a_failed_one_is_trained_again(
    showcases, monkeypatch
):
    old = showcases["regex"]
    monkeypatch.setitem(builtin_configs.RECOMMENDED_CONFIGS, "regex", {**TINY, "seed": 8})
    call_command("load_packs", verbosity=0)
    new = Run.objects.get(showcase=True, pack__slug="regex")
    assert new.pk != old.pk and new.seed == 8 and new.status == Run.Status.COMPLETED
    assert not Run.objects.filter(pk=old.pk).exists()
    Run.objects.filter(pk=new.pk).update(status=Run.Status.FAILED)
    call_command("train_showcases", "regex", verbosity=0)
    assert Run.objects.get(showcase=True, pack__slug="regex").status == Run.Status.COMPLETED



def test_a_pack_that_names_another_probe_line_gets_a_new_showcase(showcases):
    old = showcases["arithmetic"]
    assert old.started_data()["probe"]["text"] == "8+6=14"
    Pack.objects.filter(slug="arithmetic").update(probe_line="9+9=18", probe_focus=4)
    call_command("train_showcases", "arithmetic", verbosity=0)
    new = Run.objects.get(showcase=True, pack__slug="arithmetic")
    assert new.pk != old.pk and new.started_data()["probe"]["text"] == "9+9=18"


def test_train_showcases_names_a_pack_it_does_not_know(tiny_recommended):
    from django.core.management.base import CommandError

    Pack.objects.load_builtins()
    with pytest.raises(CommandError, match="no enabled built-in pack nope"):
        call_command("train_showcases", "nope")


def test_load_packs_without_showcases_when_turned_off(settings):
    settings.LAB_SHOWCASES = False
    call_command("load_packs", verbosity=0)
    assert not Run.objects.filter(showcase=True).exists()


def test_every_home_card_opens_its_showcase_for_anyone(client, showcases):
    html = client.get("/").content.decode()
    for run in showcases.values():
        assert f'href="{reverse("runs:detail", args=[run.pk])}"' in html
    assert "Sign up to train your own" in html
    assert "trained in seconds on this lab's server" in html  # the footer: not "in your tab"
    # each card says how far its showcase got from a uniform guess: ln(characters + BOS)
    run = showcases["arithmetic"]
    uniform = math.log(len(set("".join(BUILTIN_PACKS["arithmetic"].lines()))) + 1)
    assert f"its loss fell from {uniform:.2f} (a uniform guess) to {run.final_loss:.2f}" in html


@pytest.mark.parametrize("who", ["anonymous", "student", "outsider"])
def test_anyone_may_explore_a_showcase(client, showcases, student, outsider, who):
    user = {"anonymous": None, "student": student, "outsider": outsider}[who]
    if user:
        client.force_login(user)
    run = showcases["chess_pgn"]
    step = run.snapshot_steps()[-1]
    page = client.get(reverse("runs:detail", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "A showcase run." in html and "Cancel run" not in html
    assert ("Sign up to train your own" in html) == (user is None)
    assert ("Train your own on Chess openings" in html) == (user is not None)
    # the samples panel: the template in words, the regex behind a toggle, "correct" in one sentence
    assert "Template: 1. move move 2. move move 3. move move" in html
    assert '<code class="template-regex">' in html
    assert "Correct means: each move is legal from the position" in html
    for url in (
        reverse("runs:snapshot", args=[run.pk]) + "?i=0",
        reverse("runs:token", args=[run.pk, step, 2]),
        reverse("runs:opview", args=[run.pk, step, 2]),
        reverse("runs:opview_update", args=[run.pk, step, 2]),
        reverse("runs:opview_chain", args=[run.pk, step, 2, 1]) + "?i=0&op=999",
        reverse("runs:export", args=[run.pk]),
        reverse("runs:playground", args=[run.pk]),
        reverse("runs:playground_predict", args=[run.pk]) + f"?step={step}&text=1.",
        reverse("runs:playground_game", args=[run.pk]) + f"?step={step}&round=1",
    ):
        assert client.get(url).status_code == 200, url
    assert can_view(client.get("/").wsgi_request.user, run)


def test_a_visitor_is_sent_to_log_in_for_any_other_run(client, student, start_run):
    run = start_run(student)
    for url in (
        reverse("runs:detail", args=[run.pk]),
        reverse("runs:opview", args=[run.pk, 1, 0]),
        reverse("runs:export", args=[run.pk]),
        reverse("runs:playground", args=[run.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["anonymous", "student", "superuser"])
def test_nobody_may_cancel_or_change_a_showcase(client, showcases, student, admin_user, who):
    user = {"anonymous": None, "student": student, "superuser": admin_user}[who]
    run = showcases["sql_snippets"]
    if user:
        client.force_login(user)
        assert not can_change(user, run) and not can_cancel(user, run)
    response = client.post(reverse("runs:cancel", args=[run.pk]))
    assert response.status_code == (302 if user is None else 403)
    if user:
        assert "showcase run" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED and not run.cancel_requested


def test_showcases_count_against_no_limit_nor_queue_nor_retention(
    client, student, start_run, pack, settings
):
    """Even a showcase being trained (queued or running) is not anyone's active run."""
    settings.LAB_MAX_ACTIVE_RUNS = 1
    training = showcase.start(pack)
    assert training.status == Run.Status.QUEUED
    assert not Run.objects.active().filter(pk=training.pk).exists()
    mine = start_run(student)  # the student's only allowed run starts
    assert mine.queue_position() == 1
    train_run(training.pk)
    Run.objects.filter(pk=training.pk).update(created_at=timezone.now() - timedelta(days=400))
    purge_expired()
    assert Run.objects.filter(pk=training.pk).exists()


@pytest.mark.django_db(transaction=True)  # the socket's queries must see committed rows
def test_the_showcase_socket_admits_a_visitor_and_no_other_run_does(
    client, student, pack, start_run
):
    run = showcase.start(pack)
    train_run(run.pk)
    first = first_message(client, None, f"/ws/runs/{run.pk}/")
    assert first["type"] == "websocket.send" and 'data-status="completed"' in first["text"]
    other = start_run(student)
    refused = first_message(client, None, f"/ws/runs/{other.pk}/")
    assert refused == {"type": "websocket.close", "code": 4401}


def test_the_queued_event_records_what_the_showcase_was_made_from(pack):
    run = showcase.start(pack)
    queued = run.events.get(kind=Kind.QUEUED).data
    assert queued == {"config": pack.recommended_config, "text_digest": showcase.text_digest(pack)}
