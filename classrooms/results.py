"""The panel's results table: one row per run shown (and one per student with no run yet),
with the figures an instructor compares: status, step, smoothed loss, validation loss,
template share, flags, whether the run is private, and a queued run's place and wait.

Everything is read in a handful of queries for the whole class (the panel is re-rendered
with every push while thirty students train), and what comes from a run's events only
when the run changed since the last render (classrooms/kept.py)."""

import math
from dataclasses import dataclass, field

from django.db.models import Max, Q

from classrooms import flags, kept
from runs import diagnostics
from runs.models import Kind, Run, RunEvent, step_loss
from runs.queue import queue_estimates


@dataclass
class ResultRow:
    student: object
    colour: str
    run: object = None
    smoothed_loss: float | None = None
    validation_loss: float | None = None
    template_share: tuple | None = None  # (follow, of)
    flags: list = field(default_factory=list)  # [(code, words)]
    private: bool = False
    queue_place: int | None = None
    wait_seconds: float | None = None
    first_of_student: bool = True  # the student's first row carries "Remove student"

    @property
    def needs_attention(self):
        return any(code in flags.ATTENTION_CODES for code, _ in self.flags)

    @property
    def flag_codes(self):
        return " ".join(code for code, _ in self.flags)

    @property
    def loss_text(self):
        return loss_text(self.smoothed_loss)

    @property
    def validation_text(self):
        return loss_text(self.validation_loss)

    @property
    def waiting_words(self):
        """ "place 3 in the queue, about 2 min" for a queued run, else ""."""
        if self.queue_place is None:
            return ""
        if self.wait_seconds is None:
            wait = "wait not known yet (no run has finished)"
        elif self.wait_seconds < 60:
            wait = "starts within a minute"
        else:
            wait = f"about {math.ceil(self.wait_seconds / 60)} min"
        return f"place {self.queue_place} in the queue, {wait}"

    @property
    def template_percent(self):
        if not self.template_share or not self.template_share[1]:
            return None
        follow, of = self.template_share
        return round(100 * follow / of)


def loss_text(loss):
    """A loss as the table shows it: 3 decimals, or whole with separators once huge."""
    if loss is None:
        return ""
    if not math.isfinite(loss):
        return "NaN/inf"
    return f"{loss:,.0f}" if abs(loss) >= 1000 else f"{loss:.3f}"


def recent_losses(runs):
    """{run_id: [loss, ...]}: each run's last flags.WINDOW stored step losses, oldest first."""
    wanted = Q()
    for run in runs:
        if run.current_step:
            wanted |= Q(run_id=run.pk, step__gt=run.current_step - flags.WINDOW)
    if not wanted:
        return {}
    out = {}
    rows = (
        RunEvent.objects.filter(wanted, kind=Kind.STEP)
        .annotate(loss=step_loss())
        .order_by("run_id", "step")
        .values_list("run_id", "loss")
    )
    for run_id, loss in rows:
        out.setdefault(run_id, []).append(loss)
    return out


def validation_of(data):
    return (data or {}).get("val_loss")


def share_of(data):
    follows = [ok for ok in (data or {}).get("follows") or [] if ok is not None]
    return (sum(follows), len(follows)) if follows else None


NEWEST_READS = {Kind.EVAL: validation_of, Kind.SAMPLES: share_of}  # what the table keeps


def newest_figures(runs):
    """{(run_id, kind): figure} of each run's newest eval (its validation loss) and sample
    batch (its template share): the newest seq per run and kind first (an index read), then
    only the data of those not read before (a run keeps dozens of sample batches, each
    read once: classrooms.kept.NEWEST)."""
    by_pk = {run.pk: run for run in runs}
    if not by_pk:
        return {}
    newest = (
        RunEvent.objects.filter(run_id__in=list(by_pk), kind__in=list(NEWEST_READS))
        .values("run_id", "kind")
        .annotate(newest=Max("seq"))
        .values_list("run_id", "kind", "newest")
    )
    out, missing, wanted = {}, {}, Q()
    for run_id, kind, seq in newest:
        key = kept.run_key(by_pk[run_id], seq)
        figure = kept.NEWEST.get(key, missing)
        if figure is missing:
            wanted |= Q(run_id=run_id, seq=seq)
        else:
            out[run_id, kind] = figure
    if wanted:
        for run_id, seq, kind, data in RunEvent.objects.filter(wanted).values_list(
            "run_id", "seq", "kind", "data"
        ):
            figure = out[run_id, kind] = NEWEST_READS[kind](data)
            kept.NEWEST[kept.run_key(by_pk[run_id], seq)] = figure
    return out


@dataclass(frozen=True)
class RunFigures:
    """What the table reads from a run's events: its last losses (when its row needs them),
    newest validation loss and template share."""

    recent: tuple = ()
    validation_loss: float | None = None
    template_share: tuple | None = None


def needs_recent(run):
    """A finished run with its final loss and findings stored is shown from those."""
    return run.is_active or run.final_loss is None or run.findings is None


def run_figures(runs):
    """{run_id: RunFigures} of `runs`, read from the database only for runs whose last_seq
    moved since this process last read them (classrooms.kept.FIGURES)."""
    out, stale = {}, []
    for run in runs:
        seen = kept.FIGURES.get(kept.run_key(run))
        if seen is not None and seen[0] == run.last_seq:
            out[run.pk] = seen[1]
        else:
            stale.append(run)
    if stale:
        recent = recent_losses([run for run in stale if needs_recent(run)])
        newest = newest_figures(stale)
        for run in stale:
            figures = out[run.pk] = RunFigures(
                tuple(recent.get(run.pk, ())),
                newest.get((run.pk, Kind.EVAL)),
                newest.get((run.pk, Kind.SAMPLES)),
            )
            kept.FIGURES[kept.run_key(run)] = (run.last_seq, figures)
    return out


def table(classroom, student_rows):
    """ResultRows for panel.roster's rows: each shown run, newest first per student, and a
    "not started" row for a student with none."""
    runs = [run for row in student_rows for run in row.runs]
    figures = run_figures(runs)
    queue = queue_estimates() if any(r.status == Run.Status.QUEUED for r in runs) else {}
    out = []
    for row in student_rows:
        if not row.runs:
            out.append(
                ResultRow(
                    row.student,
                    row.colour,
                    flags=[(flags.NOT_STARTED, "not started: no run yet")],
                )
            )
            continue
        for index, run in enumerate(row.runs):
            figure = figures[run.pk]
            losses = list(figure.recent)
            if run.final_loss is not None and not run.is_active:
                smoothed = run.final_loss
            else:
                smoothed = diagnostics.smoothed(losses)  # the run page's smoothed loss
            place, wait = queue.get(run.pk, (None, None))
            out.append(
                ResultRow(
                    row.student,
                    row.colour,
                    run,
                    smoothed_loss=smoothed,
                    validation_loss=figure.validation_loss,
                    template_share=figure.template_share,
                    flags=flags.flags_for(run, losses),
                    private=run.classroom_id != classroom.pk,
                    queue_place=place,
                    wait_seconds=wait,
                    first_of_student=index == 0,
                )
            )
    return out
