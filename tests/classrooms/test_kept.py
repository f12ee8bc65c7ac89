"""classrooms/kept.py (and common/kept.py): the panel reads again only the runs whose
events changed since the last render, and shows exactly what a fresh read shows."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classrooms import kept, panel, results
from common.kept import Kept
from runs.models import Kind
from tests.classrooms.conftest import falling, make_run

pytestmark = pytest.mark.django_db

# a query on the events table itself (the runs query's latest-loss subquery reads it as U0)
EVENT_READ = re.compile(r'FROM "runs_runevent" WHERE')


RUN_IDS = re.compile(r'"run_id" (?:= (\d+)|IN \(([\d, ]+)\))')


def runs_named(sql):
    """The run ids a query on the events table asks about."""
    return {int(pk) for match in RUN_IDS.findall(sql) for part in match for pk in part.split(",")
            if pk.strip()}


def event_reads(queries):
    return [q["sql"] for q in queries if EVENT_READ.search(q["sql"])]


def forget_everything():
    for store in (kept.CURVES, kept.FIGURES, kept.NEWEST):
        store.clear()


def test_kept_forgets_the_least_recently_used():
    store = Kept(size=2)
    store["a"], store["b"] = 1, 2
    assert store.get("a") == 1  # "a" used: "b" is now the oldest
    store["c"] = 3
    assert (store.get("a"), store.get("b"), store.get("c")) == (1, None, 3)
    assert len(store) == 2


def test_a_second_render_reads_only_the_run_that_changed(classroom, student, classmate):
    training = make_run(student, losses=falling(100))  # of 200 steps
    finished = make_run(classmate, losses=falling(200))
    finished.append_events([(Kind.EVAL, 200, {"val_loss": 1.5})])
    finished.append_events([(Kind.SAMPLES, 200, {"texts": ["a", "b"], "follows": [True, False]})])
    finished.finish(Kind.COMPLETED, final_loss=1.0, data={"step": 200})
    panel.context(classroom)
    with CaptureQueriesContext(connection) as nothing_new:
        panel.context(classroom)
    assert event_reads(nothing_new.captured_queries) == []

    training.append_events([(Kind.STEP, 101, {"step": 101, "loss": 0.25})], current_step=101)
    with CaptureQueriesContext(connection) as one_new:
        live = panel.context(classroom)
    reads = event_reads(one_new.captured_queries)
    assert reads and {pk for sql in reads for pk in runs_named(sql)} == {training.pk}

    forget_everything()
    fresh = panel.context(classroom)
    assert live["overlay"] == fresh["overlay"]
    figures = [(r.run.pk, r.smoothed_loss, r.validation_loss, r.template_share, r.flags)
               for r in live["table"] if r.run]
    assert figures == [(r.run.pk, r.smoothed_loss, r.validation_loss, r.template_share, r.flags)
                       for r in fresh["table"] if r.run]
    assert (finished.pk, 1.5, (1, 2)) in [(pk, val, share) for pk, _, val, share, _ in figures]


def test_a_new_sample_batch_is_read_once(classroom, student):
    run = make_run(student, losses=falling(50))
    run.append_events([(Kind.SAMPLES, 50, {"texts": ["x"], "follows": [True]})])
    first = results.table(classroom, panel.roster(classroom))
    run.append_events([(Kind.SAMPLES, 60, {"texts": ["y", "z"], "follows": [False, True]})])
    with CaptureQueriesContext(connection) as queries:
        second = results.table(classroom, panel.roster(classroom))
    whole_data = [sql for sql in event_reads(queries.captured_queries)
                  if '"runs_runevent"."data" AS "data" FROM' in sql]
    assert len(whole_data) == 1  # only the new batch's data, not the first one's again
    assert f'"seq" = {run.last_seq}' in whole_data[0]
    share = {r.run.pk: r.template_share for r in first if r.run}
    assert share[run.pk] == (1, 1)
    assert {r.run.pk: r.template_share for r in second if r.run}[run.pk] == (1, 2)
