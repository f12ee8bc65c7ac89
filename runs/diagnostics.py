"""What went wrong with a run, in plain words, and what to try next.

Each check is a small pure function over plain numbers (no database), with its formula in
the docstring; `diagnose(data)` runs them all. The run page, My runs, the instructor's panel
and lesson challenges all call `diagnose` (or `findings_for(run)`, which reads a run's
stored data), so a student sees the same verdict everywhere.

    data = RunData.from_run(run)            # or built by hand in a test
    for finding in diagnose(data):
        finding.code, finding.title, finding.explanation, finding.what_to_try, finding.changes

`changes` is the config a new run should change ({"learning_rate": 0.001}); `try_url(run,
finding)` turns it into a link to the new-run form prefilled with it.
"""

import itertools
import math
import statistics
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

from engine import LIMITS

# a run's smoothed loss: the mean of its last SMOOTH_WINDOW steps (one step is noisy)
SMOOTH_WINDOW = 20
DIVERGED_RATIO = 1.5  # smoothed loss above 1.5 × the uniform guess: diverged
NOT_LEARNING_RATIO = 0.9  # smoothed loss at 90 % or more of the uniform guess: not learning
NOT_LEARNING_MIN_STEPS = 100
MEMORISING_MIN_POINTS = 6
# memorising: the last MEMORISING_LAST validation points all at least 0.1 nats, 10 % and three
# typical point-to-point wobbles above the best (a real rise, not the noise of a few lines)
MEMORISING_LAST = 3
MEMORISING_MIN_RISE = 0.1
MEMORISING_RISE = 0.1
MEMORISING_WOBBLES = 3
LINES_CUT_SHARE = 0.1  # a tenth of the lines or more cut
DEAD_RELU_SHARE = 0.5  # half the MLP units or more never active

CODES = ("diverged", "not_learning", "memorising", "lines_cut", "dead_relus")


@dataclass(frozen=True)
class Finding:
    """One diagnosis. `code` is stable (one of CODES); the words are for a student."""

    code: str
    title: str
    explanation: str
    what_to_try: str
    changes: dict = field(default_factory=dict)

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**{k: data[k] for k in ("code", "title", "explanation", "what_to_try")},
                   changes=dict(data.get("changes") or {}))


@dataclass
class RunData:
    """What the checks read. losses[i] is step i+1's training loss (None: not finite);
    val_steps/val_losses the validation points; doc_lengths the characters of every
    training document; dead_relu_share the newest share of MLP units never active (None:
    not measured)."""

    vocab_size: int
    num_steps: int
    losses: list
    config: dict = field(default_factory=dict)
    val_steps: list = field(default_factory=list)
    val_losses: list = field(default_factory=list)
    doc_lengths: list = field(default_factory=list)
    dead_relu_share: float | None = None

    @property
    def uniform_loss(self):
        return math.log(self.vocab_size)

    @classmethod
    def from_run(cls, run):
        """The stored data of a Run (runs.models): steps, validation, the newest probe."""
        series = run.step_series()
        evals = run.eval_series()
        return cls(
            vocab_size=run.vocab_size or 2,
            num_steps=run.num_steps,
            losses=series["loss"],
            config=dict(run.config),
            val_steps=evals["step"],
            val_losses=evals["val_loss"],
            doc_lengths=run.doc_lengths(),
            dead_relu_share=evals["dead_relu_share"][-1] if evals["step"] else None,
        )


def smoothed(losses, window=SMOOTH_WINDOW):
    """mean(losses[-window:]) over the finite values; None when there are none."""
    tail = [x for x in losses[-window:] if x is not None and math.isfinite(x)]
    return sum(tail) / len(tail) if tail else None


def loss_words(x):
    """A loss as a reader takes it in: 2 decimals, a big one whole with thousands marked."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.2f}"


def diverged(losses, vocab_size):
    """Fires when any loss is not finite (None, inf, nan), or when the smoothed loss
    s = mean(last 20 losses) > 1.5 × ln V (V = vocabulary size, ln V the uniform guess)."""
    uniform = math.log(vocab_size)
    broken = any(x is None or not math.isfinite(x) for x in losses)
    s = smoothed(losses)
    if not broken and (s is None or s <= DIVERGED_RATIO * uniform):
        return None
    how = "a loss became infinite or not a number" if broken else (
        f"its smoothed loss is {loss_words(s)}, far above the uniform guess ln {vocab_size} = "
        f"{uniform:.2f}")
    return Finding(
        "diverged",
        "Diverged",
        f"Training blew up: {how}. The steps were too big, so each update overshot and the "
        "model got worse instead of better; its predictions now mean nothing.",
        "Try a learning rate ten times smaller.",
    )


def not_learning(losses, vocab_size, num_steps):
    """Fires once at least max(100, num_steps / 2) steps are done and the smoothed loss
    s = mean(last 20 losses) satisfies 0.9 × ln V ≤ s ≤ 1.5 × ln V: still about as bad as a
    uniform guess over the V characters (above that band is `diverged`)."""
    done = len(losses)
    s = smoothed(losses)
    uniform = math.log(vocab_size)
    if done < max(NOT_LEARNING_MIN_STEPS, num_steps / 2) or s is None:
        return None
    if not NOT_LEARNING_RATIO * uniform <= s <= DIVERGED_RATIO * uniform:
        return None
    return Finding(
        "not_learning",
        "Not learning",
        f"After {done} steps the smoothed loss is {s:.2f}, still close to the uniform guess "
        f"ln {vocab_size} = {uniform:.2f}: the model predicts about as well as picking any "
        "character at random.",
        "Try a larger learning rate (the steps may be too small) or more steps.",
    )


def memorising(val_steps, val_losses, losses):
    """Fires when the validation loss rose, materially and for good, while the training
    loss fell. With at least 6 validation points v, best = min(v) at step b (not among the
    last 3 points), wobble = median |v[i+1] - v[i]| over the points after b (how much the
    loss moves from one point to the next), and
    rise = max(0.1, 0.1 × best, 3 × wobble): every one of the last 3 points is ≥ best + rise
    (sustained: not one unlucky point), and the smoothed training loss now is below the
    smoothed training loss at step b."""
    points = [(s, v) for s, v in zip(val_steps, val_losses, strict=True) if v is not None]
    if len(points) < MEMORISING_MIN_POINTS:
        return None
    best_index = min(range(len(points)), key=lambda i: points[i][1])
    if best_index >= len(points) - MEMORISING_LAST:
        return None
    best_step, best = points[best_index]
    after = [v for _, v in points[best_index:]]
    wobble = statistics.median(abs(b - a) for a, b in itertools.pairwise(after))
    rise = max(MEMORISING_MIN_RISE, MEMORISING_RISE * best, MEMORISING_WOBBLES * wobble)
    last = [v for _, v in points[-MEMORISING_LAST:]]
    if min(last) < best + rise:
        return None
    now = sum(last) / len(last)
    train_then, train_now = smoothed(losses[:best_step]), smoothed(losses)
    if train_then is None or train_now is None or train_now >= train_then:
        return None
    return Finding(
        "memorising",
        "Memorising",
        f"The loss on the held-out lines was lowest at step {best_step} ({best:.2f}) and has "
        f"risen to {now:.2f}, while the loss on the training lines kept falling "
        f"({train_then:.2f} → {train_now:.2f}). The model is learning its training lines by "
        "heart instead of their pattern, so it does worse on lines it has not seen.",
        f"Try stopping at about step {best_step}, or a smaller model.",
        {"num_steps": max(LIMITS["num_steps"][0], best_step)},
    )


def lines_cut(doc_lengths, block_size):
    """A document of L characters trains as [BOS] + chars + [BOS] cut to block_size + 1
    tokens, so its last character is seen only when L + 1 ≤ block_size. Fires when
    cut = #{L : L + 1 > block_size} is at least a tenth of the documents."""
    count, cut = lines_cut_count(doc_lengths, block_size)
    if not count or cut < LINES_CUT_SHARE * count:
        return None
    longest = max(doc_lengths)
    fit = min(LIMITS["block_size"][1], longest + 1)
    return Finding(
        "lines_cut",
        "Lines cut by the block size",
        f"Block size {block_size} cuts {cut} of {count} lines: the model never sees their "
        "ends, so it cannot learn how they finish, and its samples stop in the middle.",
        f"Try block size {fit}" + (" (the longest line fits)." if fit > longest else
                                   " (the largest allowed)."),
        {"block_size": fit},
    )


def lines_cut_count(doc_lengths, block_size):
    """(documents, documents whose end the model never sees): see lines_cut."""
    return len(doc_lengths), sum(1 for n in doc_lengths if n + 1 > block_size)


def dead_relus(share):
    """Fires when share ≥ 0.5, where share = (MLP units whose ReLU output is 0 at every
    position of the probe line and the validation lines) / (all MLP units)."""
    if share is None or share < DEAD_RELU_SHARE:
        return None
    return Finding(
        "dead_relus",
        "Dead ReLUs",
        f"{100 * share:.0f}% of the MLP's units never switch on (their ReLU outputs 0 for "
        "every character looked at). A dead unit passes no signal and gets no gradient, so it "
        "never recovers: the model is working with a fraction of its size.",
        "Try a smaller learning rate: big early updates are what usually kill units.",
    )


def diagnose(data):
    """Every finding for `data` (a RunData), most serious first; [] for a healthy run."""
    lr = data.config.get("learning_rate")
    num_steps = data.config.get("num_steps", data.num_steps)
    found = []
    if (finding := diverged(data.losses, data.vocab_size)) is not None:
        found.append(with_changes(finding, {"learning_rate": smaller_lr(lr)}))
    elif (finding := not_learning(data.losses, data.vocab_size, data.num_steps)) is not None:
        more = min(LIMITS["num_steps"][1], 2 * num_steps) if num_steps else None
        if lr is not None and lr < 0.01:
            changes = {"learning_rate": round_lr(min(LIMITS["learning_rate"][1], lr * 10))}
        else:
            changes = {"num_steps": more} if more and more != num_steps else {}
        found.append(with_changes(finding, changes))
    else:
        finding = memorising(data.val_steps, data.val_losses, data.losses)
        if finding is not None:
            found.append(finding)
    block_size = data.config.get("block_size")
    if block_size and (finding := lines_cut(data.doc_lengths, block_size)) is not None:
        found.append(finding)
    if (finding := dead_relus(data.dead_relu_share)) is not None:
        found.append(with_changes(finding, {"learning_rate": smaller_lr(lr, 3)}))
    return found


def with_changes(finding, changes):
    changes = {k: v for k, v in changes.items() if v is not None}
    return Finding(finding.code, finding.title, finding.explanation, finding.what_to_try, changes)


def round_lr(value):
    """Two significant digits, within the limits."""
    lo, hi = LIMITS["learning_rate"]
    return min(hi, max(lo, float(f"{value:.2g}")))


def smaller_lr(lr, factor=10):
    return None if lr is None else round_lr(lr / factor)


def try_url(source_ref, finding, base="/runs/new/", config=None, classroom_id=None):
    """The new-run form prefilled with the run's config and the finding's changes."""
    query = {"pack": source_ref, **(config or {}), **finding.changes}
    if classroom_id:
        query["classroom"] = classroom_id
    return f"{base}?{urlencode(query)}"


def findings_for(run):
    """The findings of a Run: stored with its terminal event once it has ended (see
    runs.training), computed from what is stored so far while it is going."""
    if run.is_finished and run.findings is not None:
        return [Finding.from_dict(d) for d in run.findings]
    if not run.vocab_size or not run.current_step:
        return []
    return diagnose(RunData.from_run(run))
