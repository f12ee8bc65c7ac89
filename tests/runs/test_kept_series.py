"""runs/kept_series.py: a run's whole step and evaluation series are kept between reads in
this process; a read fetches only what was stored since, and returns what a fresh read of
every event returns."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs import kept_series
from runs.models import Kind

pytestmark = pytest.mark.django_db


def steps(first, last):
    return [
        (Kind.STEP, i, {"step": i, "loss": 3.0 / i, "lr": 0.01,
                        "grad_norms": {"wte": i * 0.1}, "update_norms": {"wte": i * 0.01}})
        for i in range(first, last + 1)
    ]


def by_hand(run):
    """The series computed independently, straight from every stored event."""
    out = {"step": [], "loss": [], "lr": [], "grad_norms": {"wte": []}, "update_norms": {"wte": []}}
    for event in run.events.filter(kind=Kind.STEP).order_by("seq"):
        out["step"].append(event.step)
        out["loss"].append(event.data["loss"])
        out["lr"].append(event.data["lr"])
        out["grad_norms"]["wte"].append(event.data["grad_norms"]["wte"])
        out["update_norms"]["wte"].append(event.data["update_norms"]["wte"])
    return out


def test_the_step_series_reads_only_new_steps(student, start_run):
    run = start_run(student)
    run.append_events(steps(1, 10), current_step=10)
    first = run.step_series()
    assert first == by_hand(run)
    first["loss"].append(99.0)  # a caller changing its copy changes nothing kept
    run.append_events([(Kind.EVAL, 10, {"val_loss": 2.0})] + steps(11, 15), current_step=15)
    with CaptureQueriesContext(connection) as queries:
        second = run.step_series()
    assert second == by_hand(run) and len(second["step"]) == 15
    (read,) = queries.captured_queries
    assert f'"seq" > {1 + 10}' in read["sql"]  # after run.queued and the 10 steps read


def test_the_eval_series_is_kept_and_ordered_by_step(student, start_run):
    run = start_run(student)
    run.append_events([(Kind.EVAL, 5, {"val_loss": 2.5, "probe": {"loss": 2.7},
                                       "dead_relu_share": 0.1})])
    assert run.eval_series() == {"step": [5], "val_loss": [2.5], "probe_loss": [2.7],
                                 "dead_relu_share": [0.1]}
    run.append_events([(Kind.EVAL, 10, {"val_loss": None, "probe": {"loss": 2.2}})])
    assert run.eval_series() == {"step": [5, 10], "val_loss": [2.5, None],
                                 "probe_loss": [2.7, 2.2], "dead_relu_share": [0.1, None]}
    kept_series.EVALS.clear()  # a fresh read agrees
    assert run.eval_series()["probe_loss"] == [2.7, 2.2]
