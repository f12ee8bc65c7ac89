"""runs/training.py: what a trained run stores, in what order, and how it ends."""

import base64
import math

import numpy as np
import pytest

from engine import GPT, GPTConfig, Trainer
from engine.model import param_group
from packs_app.sources import resolve_source
from runs import training
from runs.evaluation import Evaluator
from runs.models import TERMINAL_KINDS, Kind, Run
from runs.page import newest_batch
from runs.training import probe_for, snapshot_schedule, train_run
from tests.runs.conftest import TINY


def trained(start_run, owner, **config):
    run = start_run(owner, **config)
    assert train_run(run.pk, "test-worker")
    return Run.objects.get(pk=run.pk)


def test_a_run_trains_to_completion(student, start_run):
    run = trained(start_run, student)
    assert run.status == Run.Status.COMPLETED
    assert run.current_step == run.num_steps == TINY["num_steps"]
    assert run.finished_at >= run.started_at
    assert run.final_loss is not None and run.final_loss < run.baseline_loss
    assert run.baseline_loss == pytest.approx(math.log(run.vocab_size))
    assert run.vocab == "".join(sorted(set("".join(run.pack.documents))))
    assert run.is_finished and not run.is_active
    assert run.steps_per_second() > 0


@pytest.mark.services
def test_events_are_ordered_and_end_with_one_terminal_event(student, start_run):
    run = trained(start_run, student)
    events = list(run.events.order_by("seq").values_list("seq", "kind", "step"))
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    assert run.last_seq == len(events)
    kinds = [kind for _, kind, _ in events]
    assert kinds[:2] == [Kind.QUEUED, Kind.STARTED]
    assert kinds[-1] == Kind.COMPLETED
    assert sum(kind in TERMINAL_KINDS for kind in kinds) == 1
    steps = [step for _, kind, step in events if kind == Kind.STEP]
    assert steps == list(range(1, TINY["num_steps"] + 1))


def test_step_series_holds_every_step(student, start_run):
    run = trained(start_run, student)
    series = run.step_series()
    assert series["step"] == list(range(1, TINY["num_steps"] + 1))
    assert len(series["loss"]) == len(series["lr"]) == TINY["num_steps"]
    assert series["lr"][0] == pytest.approx(TINY["learning_rate"])
    for key in ("grad_norms", "update_norms"):
        assert {"embeddings", "layer0.attn", "layer0.mlp", "lm_head", "total"} <= set(series[key])
        assert all(len(v) == TINY["num_steps"] for v in series[key].values())


def test_losses_match_the_bare_engine(student, start_run, pack):
    """Storing and batching change nothing: the same losses as the engine alone."""
    run = trained(start_run, student)
    split = Evaluator(pack.documents, training.engine_settings(TINY))
    assert len(split.held_docs) == 10 and len(split.train_docs) == 90
    bare = Trainer(split.train_docs, **training.engine_settings(TINY), capture=False,
                   held_out=split.held_docs)
    losses = [bare.step().loss for _ in range(TINY["num_steps"])]
    assert run.step_series()["loss"] == pytest.approx(losses, rel=1e-6)


def test_snapshots_at_the_schedule_with_their_parameters(student, start_run):
    run = trained(start_run, student, num_steps=25, snapshot_interval=10)
    assert run.snapshot_steps() == [1, 10, 20, 25] == snapshot_schedule(25, 10)
    snap = run.snapshot(10)
    assert snap["step"] == 10
    t = len(snap["tokens"])
    attention = snap["attn_weights"]  # compact: a byte per causal weight, per head
    assert attention["size"] == t and [h[:2] for h in attention["heads"]] == [[0, 0], [0, 1]]
    assert len(base64.b64decode(attention["heads"][0][2])) == t * (t + 1) // 2
    assert len(snap["topk_ids"][0]) == TINY["top_k"]
    assert run.snapshot(11) is None
    assert set(run.checkpoints.values_list("step", flat=True)) == {1, 10, 20, 25}


def test_params_at_a_snapshot_step_reproduce_its_forward_pass(student, start_run):
    run = trained(start_run, student, num_steps=25, snapshot_interval=10)
    # step 1's forward pass uses the initial parameters
    config = GPTConfig(run.vocab_size, 8, 2, 1, 16)
    initial = GPT(config, seed=TINY["seed"]).params
    params = run.params_at(1)
    assert set(params) == set(initial)
    for name in initial:
        np.testing.assert_array_equal(params[name], initial[name])
    # and at step 20 they give the stored loss of step 20
    snap = run.snapshot(20)
    model = GPT(config)
    for name, value in run.params_at(20).items():
        model.params[name][...] = value
    tokens = [*snap["tokens"], snap["targets"][-1]]
    loss, _ = model.loss_and_grads(np.array(tokens))
    assert loss == pytest.approx(snap["loss"], rel=1e-5)
    assert run.params_at(21) is None


def test_snapshots_carry_each_matrix_update_and_they_add_up_to_the_groups(student, start_run):
    run = trained(start_run, student, num_steps=20, snapshot_interval=10)
    scalars = dict(zip(run.step_series()["step"], range(20), strict=True))
    series = run.step_series()["update_norms"]
    for step in run.snapshot_steps():
        per_matrix = run.snapshot(step)["param_update_norms"]
        assert set(per_matrix) == set(run.params_at(step))
        groups = {}
        for name, norm in per_matrix.items():
            groups[param_group(name)] = groups.get(param_group(name), 0.0) + norm**2
        for group, squared in groups.items():
            stored = series[group][scalars[step]]
            assert math.sqrt(squared) == pytest.approx(stored, rel=1e-3)


def test_default_snapshot_schedule_fits_the_storage_budget():
    docs = ["abcdefghij" * 7]
    big = Trainer(
        docs, n_embd=64, n_head=4, n_layer=2, block_size=64, num_steps=2000, learning_rate=0.01
    )
    small = Trainer(
        docs, n_embd=8, n_head=2, n_layer=1, block_size=16, num_steps=600, learning_rate=0.01
    )
    big_steps = snapshot_schedule(2000, training.default_snapshot_interval(big))
    small_steps = snapshot_schedule(600, training.default_snapshot_interval(small))
    assert big_steps[0] == 1 and big_steps[-1] == 2000 and 5 <= len(big_steps) <= 8
    assert 15 <= len(small_steps) <= 21


def test_samples_are_stored_with_template_adherence(student, start_run):
    run = trained(start_run, student, num_steps=20, sample_interval=10, sample_count=3)
    samples = run.samples()
    assert [s["step"] for s in samples] == [20, 20, 20, 10, 10, 10]  # newest batch first
    assert all(isinstance(s["follows"], bool) for s in samples)
    batch = newest_batch(run, samples)
    k, n = batch["follow_count"], batch["sample_count"]
    assert n == 3 and k == sum(s["follows"] for s in samples[:3])


def test_samples_without_a_template_are_unmarked(student, start_run, pack):
    pack.adherence_pattern = ""
    pack.save()
    run = trained(start_run, student, num_steps=10, sample_interval=10)
    assert {s["follows"] for s in run.samples()} == {None}
    batch = newest_batch(run, run.samples())
    assert (batch["follow_count"], batch["sample_count"]) == (0, 0)


def test_writes_are_batched(student, start_run, monkeypatch):
    calls = []
    original = Run.append_events

    def counting(self, events, *args, **kwargs):
        calls.append(len(events))
        return original(self, events, *args, **kwargs)

    monkeypatch.setattr(Run, "append_events", counting)
    monkeypatch.setattr(training, "FLUSH_SECONDS", 60)
    trained(start_run, student, num_steps=200, sample_count=0)
    # queued, started, step 1, and the rest in one batch at the end
    assert len(calls) == 4
    assert calls[-1] >= 199


def test_heartbeat_and_progress_move_with_each_flush(student, start_run, monkeypatch):
    seen = []
    original = Run.append_events

    def watching(self, events, *args, **kwargs):
        result = original(self, events, *args, **kwargs)
        row = Run.objects.get(pk=self.pk)
        seen.append((row.current_step, row.heartbeat_at))
        return result

    monkeypatch.setattr(Run, "append_events", watching)
    monkeypatch.setattr(training, "FLUSH_SECONDS", 0)
    trained(start_run, student, num_steps=5)
    steps = [step for step, _ in seen[1:]]
    assert steps == sorted(steps) and steps[-1] == 5
    beats = [beat for _, beat in seen[1:]]
    assert beats == sorted(beats)


def test_an_unclaimable_run_is_left_alone(student, start_run):
    run = start_run(student)
    assert run.claim("someone-else")
    assert not train_run(run.pk, "test-worker")
    assert not train_run(999_999, "test-worker")
    assert Run.objects.get(pk=run.pk).events.count() == 1


def test_step_scalars_match_the_engines_format(pack):
    trainer = Trainer(pack.documents, **training.engine_settings(TINY), capture=False)
    for _ in range(5):
        record = trainer.step()
        assert training.step_scalars(record) == record.to_scalars()


def test_a_run_follows_the_probe_line_it_started_with(student, start_run, pack):
    """probe_for: a new run takes the pack's line (or the typed one); a resumed run and a
    fork keep the line already stored, even after the pack names another."""
    pack.probe_line, pack.probe_focus = "19+1=20", 5
    pack.save()
    run = start_run(student, num_steps=5)
    source = resolve_source(pack.slug, student)
    assert probe_for(run, source) == ("", ("19+1=20", 5))
    assert probe_for(start_run(student, num_steps=5, probe_text="2+2=4"), source)[0] == "2+2=4"
    assert train_run(run.pk, "test-worker")
    run = Run.objects.get(pk=run.pk)
    pack.probe_line, pack.probe_focus = "9+9=18", 4  # changed since the run started
    pack.save()
    source = resolve_source(pack.slug, student)
    assert probe_for(run, source) == ("", ("19+1=20", 5))
    child = Run.objects.start(student, source, dict(run.config), parent=run, fork_step=3)
    assert probe_for(child, source) == ("", ("19+1=20", 5))
    # a run that started on a held-out line (before its pack named one) keeps it
    started = run.events.get(kind=Kind.STARTED)
    started.data["probe"]["source"] = "held-out"
    started.save()
    assert probe_for(Run.objects.get(pk=run.pk), source) == ("", ("", None))


def test_a_connection_dropped_as_the_run_starts_is_retried_not_fatal(student, start_run,
                                                                      monkeypatch):
    """The reads before the first flush (the text, the probe line, what is stored) are
    retried like the flushes: the production pass's outage test once dropped every
    connection just as a worker claimed a run, and the run failed."""
    from django.db import OperationalError

    calls = {"n": 0}
    real = training.probe_for

    def dropped_once(run, source):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("terminating connection due to administrator command")
        return real(run, source)

    monkeypatch.setattr(training, "probe_for", dropped_once)
    monkeypatch.setattr(training.time, "sleep", lambda seconds: None)
    run = trained(start_run, student)
    assert run.status == Run.Status.COMPLETED and calls["n"] == 2


def test_a_trained_run_logs_what_training_it_cost(student, start_run, caplog):
    """load_site compares a watched run's training CPU with its neighbours' from this line:
    its CPU seconds are this thread's own (a thread's clock, not the machine's)."""
    caplog.set_level("INFO", logger="runs.training")
    run = trained(start_run, student)
    (record,) = [r for r in caplog.records if r.getMessage() == "run trained"]
    assert (record.run_id, record.step) == (run.pk, run.num_steps)
    took = (run.finished_at - run.claimed_at).total_seconds()
    assert 0 < record.cpu_s <= record.wall_s + 0.05
    assert record.wall_s == pytest.approx(took, abs=0.5)
