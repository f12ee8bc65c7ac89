"""Training a Run: claim it, train with the engine, store what each step reports.

Writes are batched: step records are buffered and flushed in one transaction every
FLUSH_SECONDS (and after the first step and the last), then the viewers get a wake-up. Each
flush also beats the run's heartbeat and reads back its status and cancel flag, so a
cancel lands within one flush and a reaper's verdict stops the trainer.
"""

import logging
import math
import os
import socket
import time

import numpy as np
from django.utils import timezone

from runs.config import CONFIG_FIELDS
from runs.evaluation import Evaluator, compact_attention, eval_schedule
from runs.models import Kind, Run, RunCheckpoint

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.25
FLUSH_MAX_EVENTS = 1000
FINAL_LOSS_WINDOW = 20
# Snapshots (their JSON plus the parameters stored with each) share this many bytes per run;
# together with a step row per step (~0.5 KB) a max-config run stays under 5 MB.
SNAPSHOT_BUDGET_BYTES = 3_500_000
SNAPSHOT_COUNT_RANGE = (4, 20)


class RunCanceled(Exception):
    """The student (or their instructor) asked to stop."""


class RunEnded(Exception):
    """The run got its terminal event elsewhere (the reaper) while it was training."""


def default_worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def engine_settings(config):
    """The Trainer keyword arguments of a run config."""
    return {name: config[name] for name in CONFIG_FIELDS if name in config}


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


def finish(run, kind, **fields):
    """Write the run's terminal event and status in one transaction; a no-op returning
    False when the run already has one (see Run.finish)."""
    return run.finish(kind, **fields)


def train_run(run_id, worker_name=None):
    """Claim run `run_id` and train it to its terminal event. Returns False when the run
    was not ours to train (gone, or already claimed, canceled or finished)."""
    worker_name = worker_name or default_worker_name()
    run = Run.objects.select_related("pack", "upload", "owner").filter(pk=run_id).first()
    if run is None or not run.claim(worker_name):
        log.info("run not claimed", extra={"run_id": run_id, "worker": worker_name})
        return False
    log.info(
        "run claimed", extra={"run_id": run_id, "user_id": run.owner_id, "worker": worker_name}
    )
    session = TrainingSession(run, worker_name)
    try:
        session.train()
    except RunCanceled:
        session.snapshot_where_stopped()
        finish(run, Kind.CANCELED, data={"step": session.step})
    except RunEnded as ended:
        log.warning("run ended while training", extra={"run_id": run_id, "status": str(ended)})
    except BaseException as exc:
        log.exception("run failed", extra={"run_id": run_id})
        if isinstance(exc, Exception):
            session.snapshot_where_stopped()
        finish(run, Kind.FAILED, error=readable_reason(exc), data={"step": session.step})
        if not isinstance(exc, Exception):
            raise  # KeyboardInterrupt, SystemExit: record the failure, then let it through
    return True


class TrainingSession:
    """One claimed run being trained: the engine's trainer plus a buffer of events."""

    def __init__(self, run, worker_name):
        self.run = run
        self.worker_name = worker_name
        self.step = 0
        self.events, self.checkpoints = [], []
        self.last_flush = 0.0
        self.losses = []
        self.evaluator, self.snapshot_steps = None, set()

    def train(self):
        from packs_app.sources import follows_template, resolve_source

        run = self.run
        source = resolve_source(run.source_ref, run.owner, include_disabled=True)
        config = run.config
        evaluator = self.evaluator = Evaluator(
            source.documents, {**engine_settings(config), "capture": False},
            config.get("probe_text", ""),
        )
        trainer = evaluator.trainer
        interval = config.get("snapshot_interval") or default_snapshot_interval(trainer)
        snapshot_steps = set(snapshot_schedule(trainer.num_steps, interval))
        self.snapshot_steps = snapshot_steps
        eval_steps = set(eval_schedule(trainer.num_steps, snapshot_steps))
        pattern = source.adherence_pattern or ""
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
            trainer.capture = snapshot
            record = trainer.step()
            self.step = record.step
            self.losses.append(record.loss)
            self.events.append((Kind.STEP, record.step, step_scalars(record)))
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
        finish(self.run, Kind.COMPLETED, final_loss=final_loss, data={"step": self.step})

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
            evaluator = Evaluator(first.documents, first.settings, first.asked_probe)
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
        raise RunCanceled when a cancel was requested. If the run has ended meanwhile (the
        reaper judged it lost), stop without a word: its terminal event is written."""
        status, cancel_requested = self.run.append_events(
            self.events,
            self.checkpoints,
            current_step=self.step,
            heartbeat_at=timezone.now(),
            **run_fields,
        )
        self.events, self.checkpoints = [], []
        self.last_flush = time.monotonic()
        self.run.wake()
        if status != Run.Status.RUNNING:
            raise RunEnded(status)
        if cancel_requested:
            raise RunCanceled()
