"""What the instructor's panel shows, computed from stored state only: the roster, the
class overlay's curves, the results table (classrooms/results.py) and the funnel. The
first page render and every websocket push use these same functions, so they agree."""

import math
from dataclasses import dataclass, field

from django.db.models import FloatField, OuterRef, Q, Subquery
from django.urls import reverse

from classrooms import flags, funnel, kept, results
from classrooms.models import Membership
from runs.models import Kind, Run, RunEvent, step_loss

RECENT_PER_STUDENT = 3  # finished runs listed under each student
OVERLAY_POINTS = 150  # points per curve on the class overlay (the stored series is thinned)


def student_colour(index):
    """A distinct colour per student: hues a golden angle apart."""
    return f"hsl({(index * 137.508) % 360:.0f}, 68%, 42%)"


def finite(value):
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def latest_loss_subquery():
    return Subquery(
        RunEvent.objects.filter(run=OuterRef("pk"), kind=Kind.STEP)
        .order_by("-step")
        .annotate(loss=step_loss())
        .values("loss")[:1],
        output_field=FloatField(),
    )


@dataclass
class StudentRow:
    student: object
    colour: str
    active: list = field(default_factory=list)
    recent: list = field(default_factory=list)

    @property
    def runs(self):
        return self.active + self.recent


def roster(classroom, *, spotlight_id=None):
    """One row per student (by name): their active runs and their latest finished ones,
    each annotated with `current_loss` and `is_spotlit`."""
    members = list(
        Membership.objects.filter(classroom=classroom)
        .select_related("student")
        .order_by("student__username")
    )
    rows = {m.student_id: StudentRow(m.student, student_colour(i)) for i, m in enumerate(members)}
    if not rows:
        return []
    candidates = (
        Run.objects.filter(owner_id__in=rows)
        .order_by("-created_at")
        .values_list("pk", "owner_id", "status")[: 50 * len(rows)]
    )
    shown = []
    finished_count = {}
    for pk, owner_id, status in candidates:
        if status in (Run.Status.QUEUED, Run.Status.RUNNING):
            shown.append(pk)
        elif finished_count.get(owner_id, 0) < RECENT_PER_STUDENT:
            finished_count[owner_id] = finished_count.get(owner_id, 0) + 1
            shown.append(pk)
    fill_rows(rows, Run.objects.filter(pk__in=shown), spotlight_id)
    return list(rows.values())


def fill_rows(rows, runs, spotlight_id=None):
    """Put `runs` (newest first) into their owners' rows ({owner_id: StudentRow})."""
    runs = (
        runs.select_related("pack", "upload")
        .annotate(current_loss=latest_loss_subquery())
        .order_by("-created_at")
    )
    for run in runs:
        run.is_spotlit = run.pk == spotlight_id
        row = rows[run.owner_id]
        (row.active if run.is_active else row.recent).append(run)


def overlay_runs(rows):
    """The curves drawn: each student's running runs, else their newest run with steps."""
    chosen = []
    for row in rows:
        running = [r for r in row.active if r.status == Run.Status.RUNNING]
        if running:
            chosen.extend((row, r) for r in running)
        else:
            latest = next((r for r in row.recent if r.current_step), None)
            if latest:
                chosen.append((row, latest))
    return chosen


def thinned_losses(runs, cache=None):
    """{run_id: [(step, loss), ...]}: about OVERLAY_POINTS points per run, thinned in the
    database (every k-th step) so the panel stays fast with thirty long runs; each loss
    rounded to 3 decimals (None when not finite), as the overlay draws it.

    `cache` (by default classrooms.kept.CURVES, shared by every page and push of this
    process) holds the points already read: only runs whose last_seq moved are read
    again, and only their steps stored since."""
    if not runs:
        return {}
    cache = kept.CURVES if cache is None else cache
    longest = max(max(r.num_steps, r.current_step, 1) for r in runs)
    stride = max(1, math.ceil(longest / OVERLAY_POINTS))
    known, stale, newer = {}, [], Q()
    for run in runs:
        seen_seq, points = cache.get(kept.run_key(run, stride), (None, ()))
        known[run.pk] = list(points)
        if seen_seq != run.last_seq:
            stale.append(run)
            newer |= Q(run_id=run.pk, step__gt=points[-1][0] if points else 0)
    if stale:
        # explicit steps, so the (run, kind, step) index finds exactly these rows
        wanted = [1, *range(stride, longest + 1, stride)]
        rows = (
            RunEvent.objects.filter(newer, kind=Kind.STEP, step__in=wanted)
            .annotate(loss=step_loss())
            .order_by("run_id", "step")
            .values_list("run_id", "step", "loss")
        )
        for run_id, step, loss in rows:
            known[run_id].append((step, drawn_loss(loss)))
        for run in stale:
            cache[kept.run_key(run, stride)] = (run.last_seq, tuple(known[run.pk]))
    series = {}
    for run in runs:  # always end at the newest step (not kept in the cache)
        points = known[run.pk]
        newest = run.current_loss if run.current_loss is not None else run.final_loss
        last_step = run.current_step  # step events count from 1
        if newest is not None and (not points or points[-1][0] < last_step):
            points.append((last_step, drawn_loss(newest)))
        series[run.pk] = points
    return series


def drawn_loss(loss):
    """A loss as the overlay's JSON carries it: 3 decimals, None when NaN or infinite."""
    return round(loss, 3) if finite(loss) else None


def regular_steps(stride, last):
    """Steps 1, stride, 2·stride, … up to `last`, and `last` itself: a thinned curve's."""
    return sorted({1, *range(stride, last + 1, stride), last})


def compact_steps(steps):
    """A curve's x positions for the overlay JSON: {"stride": k, "last": n} when they are
    regular_steps(k, n), as the thinned ones are (the panel re-sends every curve with each
    push, so this halves it); otherwise {"steps": [...]}.
    static/js/classroom_overlay.js expands them the same way."""
    if len(steps) >= 3:
        stride, last = steps[2] - steps[1], steps[-1]
        if stride > 0 and steps == regular_steps(stride, last):
            return {"stride": stride, "last": last}
    return {"steps": steps}


def overlay(rows, cache=None, flags_by_run=None, *, classroom_id=None, chosen=None):
    """The class overlay's data (JSON for static/js/classroom_overlay.js). `flags_by_run`
    ({run_id: [(code, words)]}, from the results table) marks each curve; `chosen`
    ([(row, run)]) draws these runs instead of overlay_runs(rows)."""
    chosen = overlay_runs(rows) if chosen is None else chosen
    series = thinned_losses([run for _, run in chosen], cache)
    curves, baselines = [], {}
    flags_by_run = flags_by_run or {}
    for row, run in chosen:
        points = series.get(run.pk, [])
        run_flags = flags_by_run.get(run.pk, [])
        curves.append(
            {
                "run": run.pk,
                "label": f"{row.student.username} · run {run.pk}",
                "colour": row.colour,
                "url": reverse("runs:detail", args=[run.pk]),
                **compact_steps([step for step, _ in points]),
                "loss": [loss for _, loss in points],
                "flag": "; ".join(words for _, words in run_flags),
                "diverged": any(code == flags.DIVERGED for code, _ in run_flags),
                "pack": run.source_title,
                "private": run.classroom_id != classroom_id,
            }
        )
        if run.vocab_size:
            baselines[run.vocab_size] = math.log(run.vocab_size)
    return {
        "curves": curves,
        "baselines": [
            {"value": value, "label": f"ln({size}) random guess"}
            for size, value in sorted(baselines.items())
        ],
    }


def context(classroom, *, funnel_counts=None):
    """Everything panel.html renders. A live socket passes the funnel it counted when it
    is still fresh. What comes from the runs' events is read only for runs that changed
    since the last render in this process (classrooms/kept.py)."""
    rows = roster(classroom, spotlight_id=classroom.spotlight_run_id)
    table = results.table(classroom, rows)
    flags_by_run = {r.run.pk: r.flags for r in table if r.run is not None}
    return {
        "classroom": classroom,
        "rows": rows,
        "table": table,
        "overlay": overlay(rows, None, flags_by_run, classroom_id=classroom.pk),
        "funnel": funnel_counts if funnel_counts is not None else funnel.counts(classroom),
        "flagged": sum(1 for r in table if r.needs_attention),
        "active_count": sum(len(row.active) for row in rows),
    }


STUDENT_PAGE_RUNS = 100  # newest runs on a student's page
STUDENT_PAGE_CURVES = 12  # of which the newest with steps are drawn


def student_context(classroom, student):
    """Everything student_runs.html renders: one student's runs in the results table
    (newest STUDENT_PAGE_RUNS) and the curves of the newest ones."""
    row = StudentRow(student, student_colour(0))
    newest = Run.objects.filter(owner=student).order_by("-created_at")
    ids = list(newest.values_list("pk", flat=True)[:STUDENT_PAGE_RUNS])
    fill_rows({student.pk: row}, Run.objects.filter(pk__in=ids), classroom.spotlight_run_id)
    table = results.table(classroom, [row])
    flags_by_run = {r.run.pk: r.flags for r in table if r.run is not None}
    drawn = sorted((r for r in row.runs if r.current_step), key=lambda r: -r.pk)
    chosen = [(row, run) for run in drawn[:STUDENT_PAGE_CURVES]]
    curves = overlay([row], None, flags_by_run, classroom_id=classroom.pk, chosen=chosen)
    for index, curve in enumerate(curves["curves"]):  # one student: a colour per run
        curve["colour"] = student_colour(index)
        curve["label"] = f"run {curve['run']} · {curve['pack']}"
    return {
        "classroom": classroom,
        "student": student,
        "table": table,
        "overlay": curves,
        "flagged": sum(1 for r in table if r.needs_attention),
        "run_count": newest.count(),
    }
