"""A Run and its ordered event log.

State first, pushes as hints: the worker writes here, then wakes the viewers (see `Run.wake`);
the live page renders from what these methods return.
"""

import io
import logging
import math
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import FloatField, Q, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

log = logging.getLogger(__name__)


class Kind(models.TextChoices):
    """What a RunEvent records; exactly one terminal kind per run."""

    QUEUED = "run.queued"
    STARTED = "run.started"
    STEP = "step"
    SNAPSHOT = "snapshot"
    EVAL = "eval"
    SAMPLES = "sample.generated"
    RESUMED = "run.resumed"  # its worker was lost; another worker goes on from the stored steps
    COMPLETED = "run.completed"
    FAILED = "run.failed"
    CANCELED = "run.canceled"


TERMINAL_KINDS = (Kind.COMPLETED, Kind.FAILED, Kind.CANCELED)
# what Run.append_events answers a trainer the reaper judged lost (the run went on elsewhere)
SUPERSEDED = "superseded"


def run_group(run_id):
    """The channel-layer group whose sockets watch run `run_id`."""
    return f"run.{run_id}"


class RunQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Runs a user may watch: their own; every run of a student in a classroom they
        teach; a classmate's run shared with a classroom they both belong to."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(
            Q(owner=user)
            | Q(owner__classrooms__instructor=user)
            | Q(classroom__students=user)
            | Q(classroom__instructor=user)
        ).distinct()

    def active(self):
        """Queued or running: what counts against a student's LAB_MAX_ACTIVE_RUNS (a
        showcase run never does)."""
        return self.filter(status__in=(Run.Status.QUEUED, Run.Status.RUNNING), showcase=False)

    def start(self, owner, source, config, *, classroom=None, max_active=None, **fields):
        """Create a queued run with its run.queued event and dispatch it once committed.
        Raises ActiveRunLimit (nothing stored) when `owner` already has `max_active`
        (default LAB_MAX_ACTIVE_RUNS) runs queued or running; the owner's user row is
        locked meanwhile, so two requests at once cannot both pass the count. `fields`: more
        Run fields (a fork's parent and fork_step)."""
        from django.contrib.auth import get_user_model

        from runs.dispatch import enqueue

        max_active = settings.LAB_MAX_ACTIVE_RUNS if max_active is None else max_active
        with transaction.atomic():
            get_user_model().objects.select_for_update().only("pk").get(pk=owner.pk)
            active = self.filter(owner=owner).active().count()
            if active >= max_active:
                raise ActiveRunLimit(active, max_active)
            run = self.create(
                owner=owner,
                pack=source.pack,
                upload=source.upload,
                classroom=classroom,
                config=config,
                num_steps=config["num_steps"],
                **fields,
            )
            run.append_events([(Kind.QUEUED, 0, {"config": config})])
            transaction.on_commit(lambda: enqueue(run))
        log.info("run queued", extra={"run_id": run.pk, "user_id": owner.pk, "source": source.ref})
        return run


def step_loss():
    """The stored loss of a step event as a float, on SQLite and PostgreSQL alike."""
    return Cast(KeyTextTransform("loss", "data"), FloatField())


class ActiveRunLimit(Exception):
    """A student already has the most runs queued or running that they may."""

    def __init__(self, active, limit):
        self.active, self.limit = active, limit
        runs, which = ("run", "it") if active == 1 else ("runs", "one")
        super().__init__(
            f"You already have {active} {runs} queued or running; the limit is {limit}. "
            f"Wait for {which} to finish, or cancel {which}, then start this run."
        )


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELED = "canceled"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="runs",
        verbose_name="student",
        help_text="Who started the run.",
    )
    pack = models.ForeignKey(
        "packs_app.Pack",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="The pack of example lines it trains on (empty when it trains on an upload).",
    )
    upload = models.ForeignKey(
        "packs_app.Upload",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="The student's own text it trains on (empty when it trains on a pack).",
    )
    classroom = models.ForeignKey(
        "classrooms.Classroom",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="The classroom the run is shared with; its instructor sees it. Empty: a "
        "private run.",
    )
    config = models.JSONField(
        default=dict,
        verbose_name="settings",
        help_text="The settings the student chose: model size, steps, learning rate and so on.",
    )
    status = models.CharField(
        max_length=12,
        choices=Status,
        default=Status.QUEUED,
        help_text="Queued (waiting for a free trainer), running, completed, failed or canceled.",
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="started from the form")
    final_loss = models.FloatField(
        null=True,
        blank=True,
        help_text="How wrong the model's guesses still were at the end: the average loss of "
        "its last 20 steps (one step alone jumps about). Lower is better.",
    )

    num_steps = models.PositiveIntegerField(
        default=0,
        verbose_name="steps planned",
        help_text="How many training steps the run was set to take.",
    )
    current_step = models.PositiveIntegerField(
        default=0, verbose_name="steps done", help_text="How many training steps are done."
    )
    started_at = models.DateTimeField(
        null=True, blank=True, verbose_name="training began",
        help_text="When a trainer began working on it.",
    )
    finished_at = models.DateTimeField(
        null=True, blank=True, verbose_name="ended", help_text="When it completed, failed or "
        "was canceled.",
    )
    error = models.TextField(
        blank=True, verbose_name="why it failed", help_text="What went wrong, as the student "
        "reads it. Empty unless the run failed.",
    )
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, verbose_name="last sign of life",
        help_text="The trainer reports in here with every save. If this stops moving, the "
        "lab hands the run to another trainer.",
    )
    worker = models.CharField(
        max_length=200, blank=True, verbose_name="trainer",
        help_text="Which trainer (computer and process) is working on it; for the site's "
        "administrators.",
    )
    task_id = models.CharField(
        max_length=64, blank=True, verbose_name="wake-up message",
        help_text="The message that woke a trainer for this run; for the site's "
        "administrators.",
    )
    dispatched_at = models.DateTimeField(
        null=True, blank=True, verbose_name="trainer woken",
        help_text="When a trainer was last asked to pick up queued runs.",
    )
    vocab = models.TextField(
        blank=True, verbose_name="characters",
        help_text="Every different character of the text it trains on: the characters the "
        "model can guess (plus the end-of-line marker, not shown).",
    )
    cancel_requested = models.BooleanField(
        default=False, verbose_name="asked to stop",
        help_text="Someone asked to cancel it; the trainer stops at its next step.",
    )
    canceled_by_note = models.CharField(
        max_length=200, blank=True, default="", verbose_name="canceled by",
        help_text="Who canceled it, when it was not the student (shown on the run page).",
    )
    last_seq = models.PositiveIntegerField(
        default=0, verbose_name="records stored",
        help_text="How many records of its training (steps, samples, snapshots) are saved.",
    )
    claimed_at = models.DateTimeField(
        null=True, blank=True, verbose_name="taken by a trainer",
        help_text="When a trainer last took it from the queue (the queue takes turns fairly "
        "between classrooms and students).",
    )
    worker_losses = models.PositiveSmallIntegerField(
        default=0, verbose_name="trainers lost",
        help_text="How many times its trainer stopped answering; each time another one "
        "carried on from where it stopped. After three, the run fails.",
    )
    findings = models.JSONField(
        null=True, blank=True, verbose_name="diagnostics",
        help_text="What the lab found wrong with the run when it ended (diverged, not "
        "learning, memorising, lines cut, dead units), with what to try.",
    )
    showcase = models.BooleanField(
        default=False,
        help_text="One of the lab's example runs, shown to visitors: anyone may look at it, "
        "nobody may change it.",
    )

    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="forks",
        verbose_name="forked from",
        help_text="The run this one was copied from at a step, to go on with other settings.",
    )
    fork_step = models.PositiveIntegerField(
        null=True,
        blank=True,
        verbose_name="forked at step",
        help_text="A fork is the same as the run it was forked from up to this step, then goes "
        "on with its own settings.",
    )

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="run_status_beat"),
            # the fair claim's "when was this classroom / this student last served"
            models.Index(fields=["classroom", "claimed_at"], name="run_classroom_claimed"),
            models.Index(fields=["owner", "claimed_at"], name="run_owner_claimed"),
        ]

    def __str__(self):
        return f"Run {self.pk} ({self.status})"

    # --- what the page shows ---------------------------------------------------------

    @property
    def is_active(self):
        """Queued or running: still going somewhere."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def is_finished(self):
        """Completed, failed or canceled: its terminal event is stored."""
        return not self.is_active

    @property
    def vocab_size(self):
        """Characters + BOS (None until the worker has built the vocabulary)."""
        return len(self.vocab) + 1 if self.vocab else None

    @property
    def baseline_loss(self):
        """The uniform-guess loss ln(vocab_size), or None before the run started."""
        return math.log(self.vocab_size) if self.vocab_size else None

    @property
    def status_label(self):
        """"Completed", or "Completed · diverged" when the run blew up (never a plain
        green "Completed" for a run whose predictions mean nothing)."""
        label = self.get_status_display()
        if any(f.get("code") == "diverged" for f in self.findings or []):
            return f"{label} · diverged"
        return label

    @property
    def seed(self):
        return self.config.get("seed")

    @property
    def source_ref(self):
        """ "<pack slug>" or "upload:<id>", as packs_app.sources.resolve_source takes it."""
        if self.upload_id:
            return f"upload:{self.upload_id}"
        return self.pack.slug if self.pack_id else ""

    @property
    def source_title(self):
        """The pack's title, or the upload's (its file name or "upload:<id>")."""
        if self.pack_id:
            return self.pack.title
        if self.upload_id:
            return self.upload.title
        return "(no text)"

    @property
    def adherence_pattern(self):
        """The pack's template pattern that samples are checked against ("" = none)."""
        return self.pack.adherence_pattern if self.pack_id else ""

    def elapsed_seconds(self):
        """Seconds spent training so far; 0 before it starts. Once it ended, up to its last
        heartbeat when that came earlier (a lost worker's run: not the minute the reaper
        waited), else to finished_at."""
        if not self.started_at:
            return 0.0
        end = self.finished_at or timezone.now()
        if self.finished_at and self.heartbeat_at:
            end = min(end, self.heartbeat_at)
        return max(0.0, (end - self.started_at).total_seconds())

    def steps_per_second(self):
        """Average training speed so far, or None before the first step."""
        elapsed = self.elapsed_seconds()
        if not self.current_step or elapsed <= 0:
            return None
        return self.current_step / elapsed

    def queue_position(self):
        """1 for the next run a worker will take, 2 behind it... (the fair order of
        runs.queue); None unless queued."""
        from runs.queue import queue_estimate

        return queue_estimate(self)[0]

    def step_series(self, after_seq=None, upto_seq=None):
        """The stored steps' scalars, ordered by step (only the events after `after_seq` and
        up to `upto_seq`, when given: a live push's delta):
        {"step": [...], "loss": [...], "lr": [...], "grad_norms": {group: [...]},
        "update_norms": {group: [...]}} (lists aligned with "step"). The whole series is
        kept between reads in this process (runs/kept_series.py): only new steps are read."""
        from runs import kept_series

        if after_seq is None and upto_seq is None:
            return kept_series.whole_step_series(self)
        series = kept_series.empty_step_series()
        rows = self.events.filter(kind=Kind.STEP)
        if after_seq is not None:
            rows = rows.filter(seq__gt=after_seq)
        if upto_seq is not None:
            rows = rows.filter(seq__lte=upto_seq)
        for step, data in rows.order_by("seq").values_list("step", "data"):
            kept_series.add_step(series, step, data)
        return series

    def eval_series(self):
        """The stored evaluation points, ordered by step: {"step": [...], "val_loss": [...],
        "probe_loss": [...], "dead_relu_share": [...]} (val_loss None: no held-out lines);
        kept between reads in this process (runs/kept_series.py)."""
        from runs import kept_series

        return kept_series.whole_eval_series(self)

    def eval_steps(self):
        """Sorted steps with a stored evaluation (validation loss and the probe line)."""
        return sorted(self.events.filter(kind=Kind.EVAL).values_list("step", flat=True))

    def evaluation(self, step):
        """The stored evaluation at `step` ({"val_loss", "probe": {...}, ...}), or None."""
        # (values_list: an instance read .only("data") would fetch its run_id in a 2nd query)
        return self.events.filter(kind=Kind.EVAL, step=step).values_list("data", flat=True).first()

    def started_data(self):
        """The run.started event's data ({} before it started); read once per instance."""
        if getattr(self, "_started", None):
            return self._started
        data = self.events.filter(kind=Kind.STARTED).values_list("data", flat=True).first()
        self._started = data or {}
        return self._started

    def probe_attention(self, step):
        """The probe line's attention stored with the snapshot at `step` (compact), or None."""
        rows = self.events.filter(kind=Kind.SNAPSHOT, step=step)
        return rows.values_list("data__probe_attn", flat=True).first()

    def doc_lengths(self):
        """The character count of every training document (from run.started)."""
        pairs = self.started_data().get("line_lengths") or []
        return [length for length, count in pairs for _ in range(count)]

    def snapshot_steps(self):
        """Sorted steps that have a stored snapshot."""
        steps = self.events.filter(kind=Kind.SNAPSHOT).values_list("step", flat=True)
        return sorted(steps)

    def snapshot(self, step):
        """The stored snapshot at `step` (the engine's record.to_snapshot() dict), or None."""
        rows = self.events.filter(kind=Kind.SNAPSHOT, step=step)
        return rows.values_list("data", flat=True).first()

    def latest_snapshot_step(self):
        """The newest snapshot step, or None."""
        return (
            self.events.filter(kind=Kind.SNAPSHOT)
            .order_by("-step")
            .values_list("step", flat=True)
            .first()
        )

    def samples(self):
        """Every generated sample, newest batch first: [{"step": int, "text": str, "follows":
        bool | None, "copied": bool | None}] (follows None: the pack has no template; copied
        None: a run from before copies were checked)."""
        out = []
        rows = self.events.filter(kind=Kind.SAMPLES).order_by("-seq").values_list("step", "data")
        for step, data in rows:
            texts = data.get("texts", [])
            follows = data.get("follows") or [None] * len(texts)
            copied = data.get("copied") or [None] * len(texts)
            for text, ok, copy in zip(texts, follows, copied, strict=False):
                out.append({"step": step, "text": text, "follows": ok, "copied": copy})
        return out

    def params_at(self, step):
        """The parameters used for the forward pass at `step` (dict name -> float32 array), or
        None when no checkpoint is stored for that step."""
        checkpoint = self.checkpoints.filter(step=step).first()
        return checkpoint.arrays() if checkpoint else None

    def terminal_event(self):
        return self.events.filter(kind__in=TERMINAL_KINDS).first()

    # --- what changes it ---------------------------------------------------------------

    def claim(self, worker_name):
        """queued -> running in one conditional UPDATE. True only for the one caller that
        changed the row; a second claim (or a claim of a canceled run) does nothing. A free
        worker takes the fairly chosen next run instead: runs.queue.claim_next."""
        now = timezone.now()
        claimed = Run.objects.filter(pk=self.pk, status=self.Status.QUEUED).update(
            status=self.Status.RUNNING,
            started_at=Coalesce("started_at", Value(now)),
            claimed_at=now,
            heartbeat_at=now,
            worker=worker_name,
        )
        if claimed:
            self.refresh_from_db()
        return claimed == 1

    def append_events(self, events, checkpoints=(), *, attempt=None, **run_fields):
        """Store `events` ([(kind, step, data)]) after the run's newest event and
        `checkpoints` ([RunCheckpoint] without run) in one transaction under the run's row
        lock, and set `run_fields` on the run. Returns the run's (status, cancel_requested)
        as locked, so the trainer learns of a cancel or of a reaper's verdict in the same
        round trip. Nothing is stored once the run has ended, nor by a trainer whose
        `attempt` (worker_losses when it claimed the run) is over: the reaper judged it lost
        and the run went back to the queue; the status returned is then SUPERSEDED."""
        with transaction.atomic():
            locked = (
                Run.objects.select_for_update()
                .only("last_seq", "status", "cancel_requested", "worker_losses")
                .get(pk=self.pk)
            )
            if attempt is not None and locked.worker_losses != attempt:
                return SUPERSEDED, locked.cancel_requested
            if locked.status not in (self.Status.QUEUED, self.Status.RUNNING):
                return locked.status, locked.cancel_requested
            seq = locked.last_seq
            rows = []
            for kind, step, data in events:
                seq += 1
                rows.append(RunEvent(run_id=self.pk, seq=seq, kind=kind, step=step, data=data))
            RunEvent.objects.bulk_create(rows)
            for checkpoint in checkpoints:
                checkpoint.run_id = self.pk
            RunCheckpoint.objects.bulk_create(checkpoints)
            Run.objects.filter(pk=self.pk).update(last_seq=seq, **run_fields)
        self.last_seq = seq
        for name, value in run_fields.items():
            setattr(self, name, value)
        return locked.status, locked.cancel_requested

    def finish(self, kind, *, error="", final_loss=None, data=None, attempt=None):
        """Write the terminal event and the matching status in one transaction. Returns False
        (and changes nothing) when the run already has its terminal event: the first verdict
        wins; the database's one-terminal-event constraint is the backstop. With `attempt`
        (a trainer's), also when the run has gone on to another worker since."""
        status = {
            Kind.COMPLETED: self.Status.COMPLETED,
            Kind.FAILED: self.Status.FAILED,
            Kind.CANCELED: self.Status.CANCELED,
        }[kind]
        payload = dict(data or {})
        if error:
            payload["error"] = error
        if final_loss is not None:
            payload["final_loss"] = final_loss
        findings = self.diagnose_now()
        try:
            with transaction.atomic():
                locked = (
                    Run.objects.select_for_update()
                    .only("last_seq", "status", "worker_losses")
                    .get(pk=self.pk)
                )
                if locked.status not in (self.Status.QUEUED, self.Status.RUNNING):
                    return False
                if attempt is not None and locked.worker_losses != attempt:
                    return False
                seq = locked.last_seq + 1
                step = payload.get("step")
                RunEvent.objects.create(run_id=self.pk, seq=seq, kind=kind, step=step, data=payload)
                fields = {"status": status, "finished_at": timezone.now(), "last_seq": seq}
                fields["findings"] = findings
                if error:
                    fields["error"] = error
                if final_loss is not None:
                    fields["final_loss"] = final_loss
                Run.objects.filter(pk=self.pk).update(**fields)
        except IntegrityError:
            log.warning("second terminal event refused", extra={"run_id": self.pk})
            return False
        self.refresh_from_db()
        log.info(kind, extra={"run_id": self.pk, "user_id": self.owner_id, "error": error})
        from runs.signals import announce_stored

        announce_stored(self, finished=True)
        self.wake()
        return True

    def diagnose_now(self):
        """runs.diagnostics findings of what is stored (as dicts), [] before it started."""
        from runs.diagnostics import RunData, diagnose

        self.refresh_from_db(fields=["vocab", "current_step", "config", "num_steps"])
        if not self.vocab or not self.current_step:
            return []
        return [finding.to_dict() for finding in diagnose(RunData.from_run(self))]

    def request_cancel(self, by=None):
        """Cancel: a queued run ends now; a running one gets the flag its trainer reads at its
        next write (within one flush). When `by` is not the owner (their instructor), the run
        says who canceled it. Returns the status after the request."""
        note = ""
        if by is not None and by.pk != self.owner_id:
            note = f"Canceled by the instructor, {by.username}."
        with transaction.atomic():
            locked = Run.objects.select_for_update().only("status").get(pk=self.pk)
            running = locked.status == self.Status.RUNNING
            if running or locked.status == self.Status.QUEUED:
                Run.objects.filter(pk=self.pk).update(
                    cancel_requested=running, canceled_by_note=note
                )
        if locked.status == self.Status.QUEUED:
            self.finish(Kind.CANCELED, data={"step": 0, "reason": "canceled before it started"})
        elif running:
            self.cancel_requested = True
            self.wake()
        self.refresh_from_db()
        return self.status

    def wake(self):
        """Tell the run's viewers to re-render (a hint; never raises)."""
        from runs.live import wake_viewers

        wake_viewers(self.pk)


class RunEvent(models.Model):
    """One entry of a run's ordered log: seq strictly increasing per run, unique (run, seq),
    and at most one terminal event (run.completed | run.failed | run.canceled) per run.

    data by kind: run.queued {"config"}; run.started {"worker", "vocab_size"}; step: the
    engine's record.to_scalars() {"loss", "lr", "grad_norms": {group: v}, "update_norms"}, and
    at the steps runs.lenses.timeline scores, the heads' role scores {"head_roles"};
    snapshot: record.to_snapshot() plus "probe" (the probe line's, see runs.evaluation);
    eval: {"val_loss", "probe": {...}, "dead_relu_share"} (runs.evaluation);
    sample.generated {"texts": [...], "follows": [bool|None], "copied": [bool],
    "temperature"}; run.completed {"final_loss", "step"}; run.failed {"error", "step"};
    run.canceled {"step"}."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField(
        verbose_name="number", help_text="The record's place in the run's story: 1, 2, 3, …"
    )
    kind = models.CharField(
        max_length=20, choices=Kind, help_text="What happened: a step, a sample, a snapshot, …"
    )
    step = models.PositiveIntegerField(
        null=True, blank=True, help_text="The training step it belongs to, if any."
    )
    data = models.JSONField(
        default=dict, blank=True, verbose_name="numbers",
        help_text="What was measured (losses, predictions, samples).",
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name="recorded")

    class Meta:
        ordering = ["run_id", "seq"]  # the column: "run" would join runs_run for its ordering
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="run_event_seq_unique"),
            models.UniqueConstraint(
                fields=["run"],
                condition=Q(kind__in=TERMINAL_KINDS),
                name="run_event_one_terminal",
            ),
        ]
        indexes = [models.Index(fields=["run", "kind", "step"], name="run_event_kind_step")]

    def __str__(self):
        return f"{self.run_id}#{self.seq} {self.kind}"


class RunCheckpoint(models.Model):
    """The model parameters used for the forward pass at a snapshot step (float32, stored as
    np.savez_compressed bytes), so any snapshot step can be traced op by op at once."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="checkpoints")
    step = models.PositiveIntegerField(help_text="The training step the weights are from.")
    blob = models.BinaryField(
        verbose_name="weights", help_text="Every number of the model at that step, packed."
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name="saved")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "step"], name="run_checkpoint_step_unique")
        ]

    @staticmethod
    def pack_params(params):
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{k: np.asarray(v, np.float32) for k, v in params.items()})
        return buffer.getvalue()

    def arrays(self):
        with np.load(io.BytesIO(bytes(self.blob))) as npz:
            return {name: npz[name] for name in npz.files}


class WorkerHeartbeat(models.Model):
    """Each worker (an embedded thread pool or a Celery process) beats here."""

    name = models.CharField(
        max_length=200, unique=True, help_text="Which trainer: its computer and process."
    )
    mode = models.CharField(
        max_length=20, help_text="Inside the web server (the embedded lab) or a separate one."
    )
    last_seen = models.DateTimeField(help_text="When the trainer last reported in.")

    @classmethod
    def beat(cls, name, mode):
        cls.objects.update_or_create(
            name=name, defaults={"mode": mode, "last_seen": timezone.now()}
        )

    @classmethod
    def forget_older_than(cls, seconds):
        cls.objects.filter(last_seen__lt=timezone.now() - timedelta(seconds=seconds)).delete()


class PlaygroundScore(models.Model):
    """A student's best round of "you vs the model" against one run at one step (the
    playground stores nothing else: typing and generating are read-only)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playground_scores"
    )
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="playground_scores")
    step = models.PositiveIntegerField(help_text="The training step of the model played.")
    best = models.PositiveIntegerField(help_text="The student's most right guesses in a round.")
    model_score = models.PositiveIntegerField(help_text="The model's right guesses that round.")
    out_of = models.PositiveIntegerField(help_text="Characters in that round.")
    rounds = models.PositiveIntegerField(default=0, help_text="Rounds finished at this step.")
    updated_at = models.DateTimeField(auto_now=True, verbose_name="last played")

    class Meta:
        ordering = ["run_id", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "run", "step"], name="playground_score_one_per_step"
            )
        ]

    @classmethod
    def record(cls, user, run, step, you, model, out_of):
        """Count a finished round, and keep it when the student's share of right guesses
        beats their best so far (a tie keeps the earlier round)."""
        with transaction.atomic():
            score, created = cls.objects.select_for_update().get_or_create(
                user=user,
                run=run,
                step=step,
                defaults={"best": you, "model_score": model, "out_of": out_of, "rounds": 1},
            )
            if created:
                return score
            score.rounds += 1
            if you * score.out_of > score.best * out_of:  # a better share of right guesses
                score.best, score.model_score, score.out_of = you, model, out_of
            score.save()
        return score
