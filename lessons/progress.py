"""What the instructor sees of a lesson, from stored state only: the student × step matrix,
a leaderboard per challenge, and the class's results as CSV rows. The panel's first render
and every push of its lesson socket use these same functions."""

from dataclasses import dataclass, field

from lessons.challenges import MET, NOT_MET, PENDING
from lessons.models import Assignment, Reflection, StepRun
from runs.diagnostics import smoothed
from runs.models import Kind, RunEvent

NOT_STARTED, RUNNING = "not_started", "running"
CELL_WORDS = {
    NOT_STARTED: "not started",
    RUNNING: "running",
    MET: "met",
    NOT_MET: "not met",
    PENDING: "waiting",
}
CELL_MARKS = {NOT_STARTED: "·", RUNNING: "…", MET: "✓", NOT_MET: "✗", PENDING: "?"}


@dataclass
class Cell:
    state: str = NOT_STARTED
    met_at_step: int | None = None
    runs: list = field(default_factory=list)  # StepRuns, oldest first
    reflection: str = ""

    @property
    def words(self):
        words = CELL_WORDS[self.state]
        if self.state == MET and self.met_at_step:
            words += f" at step {self.met_at_step:,}"
        return words

    @property
    def mark(self):
        return CELL_MARKS[self.state]

    @property
    def shown_run_id(self):
        """The run a cell links to: the first that met the challenge, else the newest."""
        met = [sr for sr in self.runs if sr.verdict == MET]
        chosen = met[0] if met else (self.runs[-1] if self.runs else None)
        return chosen.run_id if chosen else None


def cell_state(step_runs, step, reflection):
    """met: a run met the challenge (or, without one, finished; a step that opens no new
    run: the reflection is written); running: a run still going; not met: runs ended
    without meeting it; else not started."""
    if any(sr.verdict == MET for sr in step_runs):
        return MET
    if any(sr.run.is_active for sr in step_runs):
        return RUNNING
    if step_runs:
        return NOT_MET
    if reflection and step.opens != step.Opens.NEW_RUN:
        return MET
    return NOT_STARTED


def student_cells(assignment, student, steps=None):
    """{step_id: Cell} of one student (the student's own path shows the same)."""
    steps = steps if steps is not None else list(assignment.lesson.steps.all())
    runs = StepRun.objects.filter(assignment=assignment, student=student).select_related("run")
    notes = dict(
        Reflection.objects.filter(assignment=assignment, student=student).values_list(
            "step_id", "text"
        )
    )
    by_step = {}
    for sr in runs:
        by_step.setdefault(sr.step_id, []).append(sr)
    cells = {}
    for step in steps:
        mine = by_step.get(step.pk, [])
        state = cell_state(mine, step, notes.get(step.pk, ""))
        met = [sr.met_at_step for sr in mine if sr.verdict == MET and sr.met_at_step]
        cells[step.pk] = Cell(state, min(met) if met else None, mine, notes.get(step.pk, ""))
    return cells


@dataclass
class Matrix:
    assignment: Assignment
    steps: list
    rows: list  # [(student, [Cell per step])]
    leaderboards: list  # [(step, [(rank, student, StepRun)])]

    @property
    def reflections(self):
        """[(student, step, text)] of every reflection written, by student then step."""
        return [
            (student, step, cell.reflection)
            for student, cells in self.rows
            for step, cell in zip(self.steps, cells, strict=True)
            if cell.reflection
        ]


def matrix(assignment):
    """The student × step matrix of an assignment (students by name), with leaderboards."""
    steps = list(assignment.lesson.steps.all())
    members = assignment.classroom.students.order_by("username")
    runs = list(
        StepRun.objects.filter(assignment=assignment, student__in=members)
        .select_related("run", "student")
        .order_by("created_at")
    )
    notes = {
        (r.student_id, r.step_id): r.text
        for r in Reflection.objects.filter(assignment=assignment)
    }
    grouped = {}
    for sr in runs:
        grouped.setdefault((sr.student_id, sr.step_id), []).append(sr)
    rows = []
    for student in members:
        cells = []
        for step in steps:
            mine = grouped.get((student.pk, step.pk), [])
            note = notes.get((student.pk, step.pk), "")
            met = [sr.met_at_step for sr in mine if sr.verdict == MET and sr.met_at_step]
            cells.append(Cell(cell_state(mine, step, note), min(met) if met else None, mine,
                              note))
        rows.append((student, cells))
    boards = [(step, leaderboard(step, runs)) for step in steps if step.challenge]
    return Matrix(assignment, steps, rows, boards)


def leaderboard(step, step_runs):
    """[(rank, student, StepRun)]: each student's best run that met `step`'s challenge,
    fewest steps first (ties: who got there first)."""
    best = {}
    for sr in step_runs:
        if sr.step_id != step.pk or sr.verdict != MET or sr.met_at_step is None:
            continue
        key = (sr.met_at_step, sr.met_at)
        if sr.student_id not in best or key < (best[sr.student_id].met_at_step,
                                               best[sr.student_id].met_at):
            best[sr.student_id] = sr
    ordered = sorted(best.values(), key=lambda sr: (sr.met_at_step, sr.met_at))
    return [(i + 1, sr.student, sr) for i, sr in enumerate(ordered)]


CSV_HEADER = [
    "student", "lesson", "step", "run", "run status", "steps done", "smoothed loss",
    "validation loss", "challenge", "met at step", "met at (UTC)", "reflection",
]


def last_values(run_ids):
    """{run_id: (smoothed training loss, newest validation loss)} from the stored events."""
    losses, vals = {}, {}
    rows = (
        RunEvent.objects.filter(run_id__in=run_ids, kind__in=(Kind.STEP, Kind.EVAL))
        .order_by("run_id", "step")
        .values_list("run_id", "kind", "data")
    )
    for run_id, kind, data in rows:
        if kind == Kind.STEP:
            losses.setdefault(run_id, []).append(data.get("loss"))
        elif data.get("val_loss") is not None:
            vals[run_id] = data["val_loss"]
    return {rid: (smoothed(losses.get(rid, [])), vals.get(rid)) for rid in run_ids}


def csv_rows(classroom):
    """One row per (student, lesson, step): each run started for it, or one row without a
    run (a reflection alone, or nothing yet)."""
    assignments = Assignment.objects.filter(classroom=classroom).select_related("lesson")
    students = list(classroom.students.order_by("username"))
    out = []
    for assignment in assignments:
        steps = list(assignment.lesson.steps.all())
        runs = list(StepRun.objects.filter(assignment=assignment).select_related("run"))
        values = last_values([sr.run_id for sr in runs])
        notes = {(r.student_id, r.step_id): r.text
                 for r in Reflection.objects.filter(assignment=assignment)}
        for student in students:
            for step in steps:
                words = step.the_challenge.words() if step.challenge else ""
                note = notes.get((student.pk, step.pk), "")
                mine = [sr for sr in runs if sr.student_id == student.pk and sr.step_id == step.pk]
                base = [student.username, assignment.lesson.title, f"{step.position}. {step.title}"]
                if not mine:
                    out.append([*base, "", "", "", "", "", words, "", "", note])
                for sr in mine:
                    loss, val = values.get(sr.run_id, (None, None))
                    out.append([
                        *base, sr.run_id, sr.run.status, sr.run.current_step,
                        "" if loss is None else f"{loss:.4f}",
                        "" if val is None else f"{val:.4f}",
                        words,
                        sr.met_at_step or "",
                        sr.met_at.strftime("%Y-%m-%d %H:%M:%S") if sr.met_at else "",
                        note,
                    ])
    return out


def safe_cell(value):
    """A CSV cell a spreadsheet will not run as a formula (=, +, -, @ first)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
