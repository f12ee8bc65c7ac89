"""Challenges: what a lesson step asks a run to reach, checked on its stored data.

Each check is a small pure function over plain numbers (no database), with its formula in
the docstring, and answers a Verdict: still pending, met at step k, or not met (it can no
longer be met: its deadline passed or the run ended). lessons/checking.py reads a run's
stored events into these functions while it trains.

A challenge is stored on its step as a dict, {"kind": "train_loss", "target": 2.0,
"by_step": 500}; `Challenge.from_dict` checks it and `Challenge.words` says it in plain
words for the student.
"""

import math
from dataclasses import dataclass

from runs.diagnostics import SMOOTH_WINDOW, smoothed
from runs.lenses.roles import ROLE_KEYS, ROLES

PENDING, MET, NOT_MET = "pending", "met", "not_met"

KINDS = {
    "train_loss": "Smoothed training loss at most a target",
    "val_loss": "Validation loss at most a target",
    "fewest_steps": "Race: fewest steps to a smoothed training loss",
    "template_share": "Share of samples that follow the template",
    "correct_share": "Share of samples that are correct",
    "head_role": "A head takes a role",
    "val_gap": "Validation gap at most a target at the end",
}


@dataclass(frozen=True)
class Verdict:
    state: str  # PENDING, MET or NOT_MET
    step: int | None = None  # the step it was met at (MET), or decided at
    value: float | None = None  # the newest figure the challenge compares

    @property
    def decided(self):
        return self.state != PENDING


def finite(x):
    return x is not None and math.isfinite(x)


def smoothed_points(points, window=SMOOTH_WINDOW):
    """[(step, s)] for points [(step, loss)] of consecutive steps from step 1 or later:
    s = mean of the finite losses of steps k − window + 1 … k (runs.diagnostics.smoothed),
    given only where the whole window is in `points`."""
    losses = [loss for _, loss in points]
    return [
        (step, smoothed(losses[: i + 1], window))
        for i, (step, _) in enumerate(points)
        if i + 1 >= window
    ]


def ended(verdict_value, *, newest_step, by_step, finished):
    """PENDING, or NOT_MET once the deadline `by_step` is passed or the run has ended."""
    too_late = by_step is not None and newest_step is not None and newest_step >= by_step
    state = NOT_MET if (finished or too_late) else PENDING
    step = newest_step if state == NOT_MET else None
    return Verdict(state, step, verdict_value)


def first_at_most(points, target, *, after=0, by_step=None, finished=False):
    """The first point (step k, value v) with k > after, v ≤ target (and k ≤ by_step):
    MET at k. Otherwise NOT_MET when the newest step reached by_step or the run ended,
    else PENDING. The verdict's value is v at the newest point."""
    newest = points[-1] if points else (None, None)
    for step, value in points:
        if step <= after or not finite(value):
            continue
        if by_step is not None and step > by_step:
            break
        if value <= target:
            return Verdict(MET, step, value)
    return ended(newest[1], newest_step=newest[0], by_step=by_step, finished=finished)


def train_loss(points, target, *, after=0, by_step=None, finished=False, window=SMOOTH_WINDOW):
    """Smoothed training loss ≤ target: met at the first step k (k ≥ window) where the mean
    loss of steps k − window + 1 … k is at most `target`, by step `by_step` if given.
    points: [(step, loss)] of consecutive steps (at least the window before `after`)."""
    return first_at_most(
        smoothed_points(points, window), target, after=after, by_step=by_step, finished=finished
    )


def val_loss(points, target, *, after=0, by_step=None, finished=False):
    """Validation loss ≤ target: met at the first evaluation step whose loss on the held-out
    lines is at most `target`. points: [(step, validation loss)]."""
    return first_at_most(points, target, after=after, by_step=by_step, finished=finished)


def share_at_least(batches, share, *, after=0, finished=False):
    """Samples ≥ share: met at the first sample batch (step k > after) where
    (samples passing) / (samples in the batch) ≥ share. batches: [(step, [bool, ...])];
    a batch whose passes are unknown (None) never counts."""
    newest = None
    for step, passes in batches:
        if not passes or any(p is None for p in passes):
            continue
        newest = (step, sum(passes) / len(passes))
        if step > after and newest[1] >= share:
            return Verdict(MET, step, newest[1])
    return ended(newest[1] if newest else None, newest_step=newest and newest[0], by_step=None,
                 finished=finished)


def head_role(points, role, min_score, *, layer=None, after=0, finished=False):
    """A head of role `role` in layer `layer` (any layer when None): met at the first scored
    step k > after where some head's score for that role (runs.lenses.roles: the share of
    its attention that lands where the pattern says, in [0, 1]) is at least `min_score`.
    points: [(step, {"scores": [layer][head][role index], ...})]. The value is the best
    such score at the newest point."""
    index = ROLE_KEYS.index(role)
    best = None
    for step, head_roles in points:
        scores = head_roles.get("scores") or []
        layers = [layer] if layer is not None else range(len(scores))
        found = [
            heads[index]
            for n in layers
            if n < len(scores)
            for heads in scores[n]
            if heads[index] is not None
        ]
        best = max(found) if found else None
        if step > after and best is not None and best >= min_score:
            return Verdict(MET, step, best)
    return ended(best, newest_step=None, by_step=None, finished=finished)


def val_gap(losses, val_points, gap, *, finished=False, window=SMOOTH_WINDOW):
    """Validation gap ≤ gap, judged when the run has ended: at the last evaluation step k,
    g = (validation loss at k) − (mean training loss of steps k − window + 1 … k). Met at k
    when g ≤ gap. losses[i] is step i + 1's training loss. Pending while the run trains
    (early on both losses are high and the gap means nothing)."""
    points = [(s, v) for s, v in val_points if finite(v)]
    if not finished:
        return Verdict(PENDING)
    if not points:
        return Verdict(NOT_MET)
    step, value = points[-1]
    train = smoothed(losses[:step], window)
    if train is None:
        return Verdict(NOT_MET, step)
    g = value - train
    return Verdict(MET if g <= gap else NOT_MET, step, g)


@dataclass(frozen=True)
class Challenge:
    """A step's challenge. kind: one of KINDS; target: a loss (train_loss, val_loss,
    fewest_steps), a share in [0, 1] (template_share, correct_share), a score in [0, 1]
    (head_role) or a gap (val_gap); by_step: a deadline (train_loss, val_loss); role and
    layer: head_role's."""

    kind: str
    target: float
    by_step: int | None = None
    role: str | None = None
    layer: int | None = None

    def to_dict(self):
        data = {"kind": self.kind, "target": self.target}
        for name in ("by_step", "role", "layer"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls, data):
        """A Challenge from its stored dict; ValueError naming what is wrong."""
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise ValueError(f"unknown challenge kind {data!r}")
        try:
            target = float(data["target"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("a challenge needs a number to reach") from None
        kind = data["kind"]
        if not math.isfinite(target) or target < 0:
            raise ValueError("the number to reach must be zero or more")
        if kind in ("template_share", "correct_share", "head_role") and target > 1:
            raise ValueError("a share or a score is between 0 and 1")
        by_step = data.get("by_step")
        role, layer = data.get("role"), data.get("layer")
        if kind == "head_role" and role not in ROLE_KEYS:
            raise ValueError(f"unknown head role {role!r}")
        return cls(
            kind,
            target,
            int(by_step) if by_step is not None and kind in ("train_loss", "val_loss") else None,
            role if kind == "head_role" else None,
            int(layer) if layer is not None and kind == "head_role" else None,
        )

    @property
    def ranks_by_steps(self):
        """Its leaderboard: fewest steps first (every challenge has one; the race is this)."""
        return True

    def words(self):
        """The challenge in one plain sentence for the student."""
        t = self.target
        by = f" by step {self.by_step:,}" if self.by_step else ""
        if self.kind == "train_loss":
            return (f"Bring the smoothed training loss (the mean of the last {SMOOTH_WINDOW} "
                    f"steps' losses) down to {t:g} or less{by}.")
        if self.kind == "val_loss":
            return (f"Bring the validation loss (the loss on lines the model never trains on) "
                    f"down to {t:g} or less{by}.")
        if self.kind == "fewest_steps":
            return (f"Race: reach a smoothed training loss of {t:g} or less in as few steps as "
                    "you can. The leaderboard ranks the class by the step it got there.")
        if self.kind == "template_share":
            return f"Get at least {t:.0%} of a batch of samples to follow the pack's template."
        if self.kind == "correct_share":
            return (f"Get at least {t:.0%} of a batch of samples to be correct (not just the "
                    "right shape: the right meaning too).")
        if self.kind == "head_role":
            role = next(r for r in ROLES if r.key == self.role)
            where = f"in layer {self.layer}" if self.layer is not None else "in any layer"
            return (f"Grow a {role.title} head {where}. {role.explain} Its score (the share "
                    f"of its attention that lands there) must reach {t:.0%}.")
        return (f"Finish with a validation gap of {t:g} or less: the loss on unseen lines may "
                f"be at most {t:g} above the loss on the training lines.")

    def value_words(self, value):
        """The figure a verdict carries, as the student reads it ("" for none)."""
        if value is None:
            return ""
        if self.kind in ("template_share", "correct_share"):
            return f"{value:.0%} of the newest batch"
        if self.kind == "head_role":
            return f"best score {value:.0%}"
        if self.kind == "val_gap":
            return f"gap {value:.3f}"
        return f"now {value:.3f}"
