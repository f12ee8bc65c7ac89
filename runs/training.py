"""Training a Run: claim it, train with the engine, store what each step reports.

Writes are batched: step records are buffered and flushed in one transaction every
FLUSH_SECONDS (and after the first step and the last), then the viewers get a wake-up. Each
flush also beats the run's heartbeat and reads back its status and cancel flag, so a
cancel lands within one flush and a reaper's verdict stops the trainer. A flush that meets
a dropped database connection reconnects and tries again (for DB_RETRY_SECONDS) before the
run fails. A run whose worker was lost resumes: the engine is deterministic, so replaying
it to the last stored step rebuilds the state exactly, and training goes on from there.
"""

import logging
import math
import os
import socket
import time

import numpy as np
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from runs.config import engine_settings
from runs.evaluation import Evaluator, compact_attention, eval_schedule
from runs.lenses.timeline import RoleScorer, role_schedule
from runs.models import Kind, Run, RunCheckpoint
from runs.queue import claim_next
from runs.signals import announce_stored

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.25
FLUSH_MAX_EVENTS = 1000
FINAL_LOSS_WINDOW = 20
# Snapshots (their JSON plus the parameters stored with each) share this many bytes per run;
# with a step row per step (~0.55 KB) and 50 evaluations (~4 KB each) a max-config run
# stays under 4 MB (6 snapshots at the max config).
SNAPSHOT_BUDGET_BYTES = 3_000_000
SNAPSHOT_COUNT_RANGE = (4, 20)
DB_RETRY_SECONDS = 60  # a database blip shorter than this does not fail a run


class RunCanceled(Exception):
    """The student (or their instructor) asked to stop."""


class RunEnded(Exception):
    """The run got its terminal event elsewhere (the reaper) while it was training."""


def default_worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def probe_for(run, source):
    """(typed probe line, (pack's line, focus)) for the run's Evaluator. A run follows one
    line from start to end: a resumed run the line its run.started event recorded, a fork
    its parent's (whose evaluations it copied), even if the pack names another line since;
    a new run the line typed on the form, else the pack's."""
    started = run.started_data() or (run.parent.started_data() if run.parent_id else {})
    probe = started.get("probe")
    if probe is None:
        return run.config.get("probe_text", ""), (source.probe_line, source.probe_focus)
    if probe["source"] == "yours":
        return probe["text"], ("", None)
    if probe["source"] == "pack":
        return "", (probe["text"], probe.get("focus"))
    return "", ("", None)  # a held-out (or training) line: the seed picks the same again


def snapshot_schedule(num_steps, interval):
    """Step 1, every multiple of `interval`, and the last step."""
    steps = {1, num_steps}
    steps.update(range(interval, num_steps + 1, interval))
    return sorted(steps)


def default_snapshot_interval(trainer):
    """Spread as many snapshots as fit SNAPSHOT_BUDGET_BYTES over the run (4 to 20). Each
    keeps the parameters (4 bytes each) and two attention maps (the step's line and the
    probe's; a byte per causal weight, ~1.4 as base64 JSON)."""
    c = trainer.config
    attention_values = c.n_layer * c.n_head * c.block_size * (c.block_size + 1) // 2
    per_snapshot = 4 * trainer.model.flat.size + 3 * attention_values
    low, high = SNAPSHOT_COUNT_RANGE
    count = max(low, min(high, SNAPSHOT_BUDGET_BYTES // per_snapshot))
    return max(1, math.ceil(trainer.num_steps / (count - 1)))


def significant(value, digits=5):
    """`value` kept to `digits` significant digits, None if not finite (as engine.record.rounded
    does; JSON has no inf or nan)."""
    return float(f"{value:.{digits}g}") if math.isfinite(value) else None


def step_scalars(record):
    """record.to_scalars(), computed without NumPy: this runs every step."""
    return {
        "step": record.step,
        "loss": record.loss if math.isfinite(record.loss) else None,
        "lr": record.lr,
        "grad_norms": {g: significant(n) for g, n in record.grad_norms.items()},
        "update_norms": {g: significant(n) for g, n in record.update_norms.items()},
    }


def readable_reason(exc):
    """What the student sees when a run fails; the traceback goes to the log only."""
    if isinstance(exc, ValueError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "the worker ran out of memory"
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        return "the run took longer than the time limit"
    return f"training stopped by an internal error ({type(exc).__name__})"


def update_norms(before, after):
    """{param name: ‖Adam's update‖} of one step, for the op view's "where the gradient goes"."""
    return {name: significant(float(np.linalg.norm(after[name] - p))) for name, p in before.items()}


def with_database_retry(work, seconds=None):
    """work(), tried again on a fresh connection while the database is unreachable (a
    restart, a dropped connection), backing off from 0.25 s to 4 s for up to `seconds`."""
    deadline = time.monotonic() + (DB_RETRY_SECONDS if seconds is None else seconds)
    pause = 0.25
    while True:
        try:
            return work()
        except (OperationalError, InterfaceError) as exc:
            connection.close()  # the next try opens a new one
            if time.monotonic() + pause > deadline:
                raise
            log.warning("database unreachable, trying again: %r", exc)
            time.sleep(pause)
            pause = min(4.0, pause * 2)


def finish(run, kind, **fields):
    """Write the run's terminal event and status in one transaction; a no-op returning
    False when the run already has one (see Run.finish)."""
    return with_database_retry(lambda: run.finish(kind, **fields))


def train_run(run_id, worker_name=None):
    """Claim run `run_id` and train it to its terminal event. Returns False when the run
    was not ours to train (gone, or already claimed, canceled or finished)."""
    worker_name = worker_name or default_worker_name()
    run = Run.objects.select_related("pack", "upload", "owner").filter(pk=run_id).first()
    if run is None or not run.claim(worker_name):
        log.info("run not claimed", extra={"run_id": run_id, "worker": worker_name})
        return False
    return train_claimed(run, worker_name)


def train_next(worker_name=None, hint=None):
    """A woken worker: claim the fairly chosen next queued run (runs.queue) and train it.
    Returns the run's id, or None when nothing was waiting (`hint`: the run whose arrival
    woke us, for the log)."""
    worker_name = worker_name or default_worker_name()
    run = with_database_retry(lambda: claim_next(worker_name))
    if run is None:
        log.info("nothing to claim", extra={"run_id": hint, "worker": worker_name})
        return None
    train_claimed(run, worker_name)
    return run.pk


def train_claimed(run, worker_name):
    """Train a run this worker has claimed, to its terminal event."""
    run_id = run.pk
    log.info(
        "run claimed", extra={"run_id": run_id, "user_id": run.owner_id, "worker": worker_name}
    )
    session = TrainingSession(run, worker_name)
    cpu, wall = time.thread_time(), time.monotonic()
    try:
        session.train()
    except RunCanceled:
        session.snapshot_where_stopped()
        finish(run, Kind.CANCELED, data={"step": session.step}, attempt=session.attempt)
    except RunEnded as ended:
        log.warning("run ended while training", extra={"run_id": run_id, "status": str(ended)})
    except BaseException as exc:
        log.exception("run failed", extra={"run_id": run_id})
        if isinstance(exc, Exception):
            session.snapshot_where_stopped()
        finish(
            run,
            Kind.FAILED,
            error=readable_reason(exc),
            data={"step": session.step},
            attempt=session.attempt,
        )
        if not isinstance(exc, Exception):
            raise  # KeyboardInterrupt, SystemExit: record the failure, then let it through
    finally:
        # what training this run cost the worker: CPU (its own work, whatever else the
        # machine runs) against wall time (longer when other processes share the cores)
        log.info("run trained", extra={
            "run_id": run_id, "step": session.step,
            "cpu_s": round(time.thread_time() - cpu, 3),
            "wall_s": round(time.monotonic() - wall, 3),
        })
    return True


class TrainingSession:
    """One claimed run being trained: the engine's trainer plus a buffer of events."""

    def __init__(self, run, worker_name):
        self.run = run
        self.worker_name = worker_name
        self.attempt = run.worker_losses  # the reaper counts up when it judges us lost
        self.step = self.stored_step = 0
        self.flush_failed = False
        self.events, self.checkpoints = [], []
        self.last_flush = 0.0
        self.losses = []
        self.evaluator, self.snapshot_steps = None, set()

    def train(self):
        from packs_app.sources import follows_template, resolve_source

        run = self.run
        # every read before the first flush is retried like the flushes: a connection the
        # database dropped as the run was claimed must not fail it
        source = with_database_retry(
            lambda: resolve_source(run.source_ref, run.owner, include_disabled=True)
        )
        config = run.config
        probe = with_database_retry(lambda: probe_for(run, source))
        evaluator = self.evaluator = Evaluator(
            source.documents, {**engine_settings(config), "capture": False}, *probe
        )
        trainer = evaluator.trainer
        interval = config.get("snapshot_interval") or default_snapshot_interval(trainer)
        snapshot_steps = set(snapshot_schedule(trainer.num_steps, interval))
        self.snapshot_steps = snapshot_steps
        eval_steps = set(eval_schedule(trainer.num_steps, snapshot_steps))
        role_steps = set(role_schedule(trainer.num_steps, snapshot_steps))
        role_scorer = RoleScorer(trainer, source.documents)
        pattern = source.adherence_pattern or ""
        if run.current_step:  # a lost worker's run, or a fork (its parent's steps are stored)
            # (a second try replays nothing more: replay stops at the step)
            with_database_retry(lambda: self.resume(trainer, run.current_step))
        if not with_database_retry(lambda: run.events.filter(kind=Kind.STARTED).exists()):
            if run.fork_step:  # its parent's up to the fork (copied), its own after
                copied_snapshots, copied_evals = with_database_retry(
                    lambda: (run.snapshot_steps(), run.eval_steps())
                )
                snapshot_steps = {s for s in snapshot_steps if s > run.fork_step}
                snapshot_steps.update(copied_snapshots)
                eval_steps = {s for s in eval_steps if s > run.fork_step}
                eval_steps.update(copied_evals)
            started = {
                "worker": self.worker_name,
                "vocab_size": trainer.vocab.size,
                "num_params": int(trainer.model.flat.size),
                "snapshot_steps": sorted(snapshot_steps),
                "snapshot_interval_set": bool(config.get("snapshot_interval")),
                "eval_steps": sorted(eval_steps),
                **evaluator.about(),
            }
            self.events.append((Kind.STARTED, 0, started))
        self.flush(vocab=trainer.vocab.chars, num_steps=trainer.num_steps)

        while not trainer.done:
            upcoming = trainer.step_count + 1
            snapshot = upcoming in snapshot_steps
            if upcoming in eval_steps:  # with the parameters this step's forward pass uses
                evaluation, probe_attention = evaluator.evaluate()
                self.events.append((Kind.EVAL, upcoming, evaluation))
            if snapshot:  # the parameters this step's forward pass uses
                before = {name: p.copy() for name, p in trainer.model.params.items()}
            # the heads' roles with the parameters this step's forward pass uses
            head_roles = role_scorer.scores(trainer.model) if upcoming in role_steps else None
            trainer.capture = snapshot
            record = trainer.step()
            self.step = record.step
            self.losses.append(record.loss)
            scalars = step_scalars(record)
            if head_roles:
                scalars["head_roles"] = head_roles
            self.events.append((Kind.STEP, record.step, scalars))
            if snapshot:
                self.add_snapshot(record, before, trainer, probe_attention)
            if record.samples is not None:
                follows = [
                    follows_template(pattern, text) if pattern else None for text in record.samples
                ]
                self.events.append(
                    (
                        Kind.SAMPLES,
                        record.step,
                        {
                            "texts": record.samples,
                            "follows": follows,
                            "copied": evaluator.copied(record.samples),
                            "temperature": trainer.temperature,
                        },
                    )
                )
            due = time.monotonic() - self.last_flush >= FLUSH_SECONDS
            if record.step == 1 or due or len(self.events) >= FLUSH_MAX_EVENTS:
                self.flush()

        self.flush()
        window = self.losses[-FINAL_LOSS_WINDOW:]
        final_loss = sum(window) / len(window)
        done = finish(
            self.run,
            Kind.COMPLETED,
            final_loss=final_loss,
            data={"step": self.step},
            attempt=self.attempt,
        )
        if not done:
            raise RunEnded("ended or resumed elsewhere before its completion was stored")

    def resume(self, trainer, step):
        """Rebuild the trainer's state at `step` (the last stored one) by replaying from the
        seed: the same documents, order and updates, so what follows is bit-identical to an
        uninterrupted run. The last losses come from the stored steps (for final_loss)."""
        trainer.replay(step)
        self.step = self.stored_step = step
        stored = self.run.step_series(upto_seq=self.run.last_seq)["loss"]
        self.losses = [math.nan if loss is None else loss for loss in stored[-FINAL_LOSS_WINDOW:]]

    def add_snapshot(self, record, before, trainer, probe_attention):
        """Buffer the snapshot of `record` (a captured step) and the parameters its forward
        pass used (`before`), with the probe line's attention at that step."""
        data = record.to_snapshot()
        data["param_update_norms"] = update_norms(before, trainer.model.params)
        data["attn_weights"] = compact_attention(record.attn_weights)
        data["probe_attn"] = compact_attention(probe_attention)
        self.events.append((Kind.SNAPSHOT, record.step, data))
        blob = RunCheckpoint.pack_params(before)
        self.checkpoints.append(RunCheckpoint(step=record.step, blob=blob))

    def snapshot_where_stopped(self):
        """A canceled or failed run keeps a snapshot (and an evaluation) of the step where
        it stopped: recomputed by replaying a fresh trainer to the step before it (training
        is deterministic), then capturing that step. Best effort: it never hides why the
        run stopped."""
        step, first = self.step, self.evaluator
        if not step or first is None or step in self.snapshot_steps:
            return
        try:
            evaluator = Evaluator(first.documents, first.settings, first.asked_probe,
                                  first.pack_probe)
            trainer = evaluator.trainer
            trainer.replay(step - 1)
            evaluation, probe_attention = evaluator.evaluate()
            before = {name: p.copy() for name, p in trainer.model.params.items()}
            trainer.capture, trainer.sample_count = True, 0
            record = trainer.step()
            self.events = [(Kind.EVAL, step, evaluation)]
            self.add_snapshot(record, before, trainer, probe_attention)
            self.run.append_events(self.events, self.checkpoints)
        except Exception:
            log.warning("no snapshot where the run stopped", extra={"run_id": self.run.pk},
                        exc_info=True)
        self.events, self.checkpoints = [], []

    def flush(self, **run_fields):
        """Store the buffered events and checkpoints, beat the heartbeat, wake the viewers;
        raise RunCanceled when a cancel was requested. If the run has ended meanwhile, or
        gone on to another worker (the reaper judged us lost), stop without a word."""
        status, cancel_requested = with_database_retry(lambda: self.store(run_fields))
        self.stored_step = self.step
        self.events, self.checkpoints = [], []
        self.last_flush = time.monotonic()
        announce_stored(self.run)  # lesson challenges are checked here, before the wake-up
        self.run.wake()
        if status != Run.Status.RUNNING:
            raise RunEnded(status)
        if cancel_requested:
            raise RunCanceled()

    def store(self, run_fields):
        """One try of a flush. After a failed try, first check whether it was stored after
        all (the commit went through, the answer was lost): then only read the flags."""
        if self.flush_failed and self.step > self.stored_step:
            row = Run.objects.filter(pk=self.run.pk).values(
                "current_step", "status", "cancel_requested", "worker_losses", "last_seq"
            )[0]
            if row["current_step"] == self.step and row["worker_losses"] == self.attempt:
                self.flush_failed = False
                self.run.last_seq = row["last_seq"]
                return row["status"], row["cancel_requested"]
        self.flush_failed = True
        answer = self.run.append_events(
            self.events,
            self.checkpoints,
            attempt=self.attempt,
            current_step=self.step,
            heartbeat_at=timezone.now(),
            **run_fields,
        )
        self.flush_failed = False
        return answer
