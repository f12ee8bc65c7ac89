"""Racing connections on a real database: one claim wins, one terminal event, the run
limit holds under simultaneous starts, a cancel racing the trainer ends it once."""

import pytest

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_claim_race_has_one_winner(scenario):
    outcome = scenario("claim_race", 4)
    assert sorted(outcome["results"]) == [False, False, False, True]
    assert outcome["status"] == "running"


def test_simultaneous_terminal_writes_leave_one(scenario):
    outcome = scenario("terminal_race")
    assert sorted(outcome["results"]) == [False, False, True]
    assert outcome["terminal_events"] == 1
    assert outcome["seqs"] == list(range(1, len(outcome["seqs"]) + 1))
    expected = {"run.completed": "completed", "run.failed": "failed", "run.canceled": "canceled"}
    assert outcome["status"] == expected[outcome["terminal_kind"]]


def test_simultaneous_starts_cannot_pass_the_limit(scenario):
    outcome = scenario("start_race", 8, 2)
    assert outcome["results"] == ["refused"] * 6 + ["started"] * 2
    assert outcome["active"] == 2


def test_cancel_racing_the_trainer_ends_the_run_once(scenario):
    outcome = scenario("train_while_racing_a_cancel")
    assert outcome["status"] == "canceled"
    assert outcome["terminal_events"] == 1
    assert 5 <= outcome["step"] < 2000


def test_embedded_workers_train_queued_runs(scenario):
    outcome = scenario("embedded_workers_train", 3)
    assert outcome["statuses"] == ["completed"] * 3
    assert outcome["workers"].startswith("1 alive: embedded@")
    assert outcome["heartbeats_left"] == 0


def test_processes_claiming_at_once_never_take_the_same_run(scenario):
    """Several worker processes claim from one queue at the same moment (PostgreSQL:
    FOR UPDATE SKIP LOCKED; SQLite: one write transaction at a time)."""
    outcome = scenario("claims_from_processes", 4, 40)
    assert outcome["claimed"] == outcome["distinct"] == outcome["expected"] == 40
    assert outcome["statuses"] == ["running"]
    assert outcome["workers_right"]
