"""A run's whole step and evaluation series, kept between reads in this process.

The run page's first render, its diagnostics (re-checked with every snapshot pushed while
the run trains) and the spotlight read a run's whole series again and again; each read
here fetches only the events stored since the previous one (events are only appended, with
growing seq: common/kept.py) and hands out a copy. Bounded to the few runs being watched.
"""

from common.kept import Kept, run_key

WATCHED_RUNS = 24  # a 2,000-step series with its norms is about 1-2 MB

STEPS = Kept(WATCHED_RUNS)  # run_key(run) -> (newest seq read, step series)
EVALS = Kept(WATCHED_RUNS)  # run_key(run) -> (newest seq read, [(step, val, probe, dead)])


def empty_step_series():
    return {"step": [], "loss": [], "lr": [], "grad_norms": {}, "update_norms": {}}


def add_step(series, step, data):
    """Append one step event's scalars to a step series (Run.step_series' layout)."""
    series["step"].append(step)
    series["loss"].append(data.get("loss"))
    series["lr"].append(data.get("lr"))
    for key in ("grad_norms", "update_norms"):
        for group, value in (data.get(key) or {}).items():
            series[key].setdefault(group, []).append(value)


def copy_of(series):
    return {
        key: {g: list(v) for g, v in value.items()} if isinstance(value, dict) else list(value)
        for key, value in series.items()
    }


def whole_step_series(run):
    """Run.step_series() of `run`: every stored step, reading only the new ones."""
    from runs.models import Kind

    key = run_key(run)
    seen, kept = STEPS.get(key, (0, None))
    series = copy_of(kept) if kept is not None else empty_step_series()
    rows = run.events.filter(kind=Kind.STEP, seq__gt=seen).order_by("seq")
    for seq, step, data in rows.values_list("seq", "step", "data"):
        add_step(series, step, data)
        seen = seq
    STEPS[key] = (seen, series)
    return copy_of(series)


def eval_point(step, data):
    return (step, data.get("val_loss"), data.get("probe", {}).get("loss"),
            data.get("dead_relu_share"))


def whole_eval_series(run):
    """Run.eval_series() of `run`, reading only the evaluations stored since the last read
    (each evaluation's data, with the probe line's predictions, is decoded once)."""
    from runs.models import Kind

    key = run_key(run)
    seen, points = EVALS.get(key, (0, ()))
    points = list(points)
    rows = run.events.filter(kind=Kind.EVAL, seq__gt=seen).order_by("seq")
    for seq, step, data in rows.values_list("seq", "step", "data"):
        points.append(eval_point(step, data))
        seen = seq
    EVALS[key] = (seen, tuple(points))
    points.sort(key=lambda point: point[0])  # by step, as the series is read
    series = {"step": [], "val_loss": [], "probe_loss": [], "dead_relu_share": []}
    for step, val, probe_loss, dead in points:
        series["step"].append(step)
        series["val_loss"].append(val)
        series["probe_loss"].append(probe_loss)
        series["dead_relu_share"].append(dead)
    return series
