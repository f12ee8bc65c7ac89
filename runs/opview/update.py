"""Apply the update: the Adam step that follows the backward pass, with its numbers, and the
model after it.

The optimiser's state (its running means m and v) is not stored; determinism recomputes it:
replay the run from its seed to just before the step (engine Trainer.replay), check that
this gives the very parameters stored for the step, then take the step with the optimiser.
Adam uses the whole step's gradient (the mean over every position of the training line),
not this token's alone; the page keeps the two apart.

    m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ),  Δ = −lr · m̂ / (√v̂ + ε)

A replay takes up to ~3 s at the max config, and a student opens the update for one token
after another of the same step; so each replayed step is kept in a bounded cache
(REPLAY_CACHE_MB per server process, least recently used first out), keyed by the run, the
step and a digest of the training text (an edited custom pack is replayed afresh).
"""

import hashlib

import numpy as np

from runs.evaluation import trainer_for
from runs.opview.numbers import fmt, norm, shape_text
from runs.opview.side import vector_numbers
from runs.opview.trace import model_at
from runs.playground_model import ModelCache

REPLAY_CACHE_MB = 32  # a max-config step's arrays are ~3 MB: about ten steps


def replay_nbytes(step):
    """The bytes of a replayed step's arrays (what the cache counts)."""
    return sum(a.nbytes for value in step.values() if isinstance(value, dict)
               for a in value.values())


REPLAYS = ModelCache(REPLAY_CACHE_MB * 1024 * 1024, size=replay_nbytes)


class CannotReplay(Exception):
    """The step cannot be recomputed; the message says why, for the student."""


def replay_step(run, step):
    """Replay `run` to just before `step` and take that step: {"doc", "lr", "t", "beta1",
    "beta2", "eps", "loss", and by parameter name "before", "after", "grad", "m", "v",
    "update"}. From the cache when this step of this run on this text was replayed before;
    the caller must not change what it gets."""
    from packs_app.sources import SourceError, resolve_source

    try:
        source = resolve_source(run.source_ref, run.owner, include_disabled=True)
    except SourceError as exc:
        raise CannotReplay(
            "The training text of this run is no longer available, so its step cannot be "
            "recomputed."
        ) from exc
    text = hashlib.sha256("\n".join(source.documents).encode()).hexdigest()
    return REPLAYS.get((run.pk, run.created_at, step, text),
                       lambda: replayed(source.documents, run.config, step))


def replayed(documents, config, step):
    """replay_step's work, uncached."""
    trainer = trainer_for(documents, config)
    trainer.replay(step - 1)
    model, opt = trainer.model, trainer.optimizer
    before = {name: p.copy() for name, p in model.params.items()}
    doc = trainer.next_doc()[1]
    lr = trainer.lr()
    tape, grad, update = trainer.update(doc, lr)
    views = model.views
    return {
        "doc": [int(t) for t in doc],
        "lr": lr,
        "t": opt.t,
        "beta1": opt.beta1,
        "beta2": opt.beta2,
        "eps": opt.eps,
        "before": before,
        "after": {name: p.copy() for name, p in model.params.items()},
        "grad": {k: a.copy() for k, a in views(grad).items()},
        "m": {k: a.copy() for k, a in views(opt.m).items()},
        "v": {k: a.copy() for k, a in views(opt.v).items()},
        "update": {k: a.copy() for k, a in views(update).items()},
        "loss": float(tape.nodes[-1].value),
    }


def token_row_of(view, name, token_grad):
    """The row of a weight that belongs to the token, and why: wte the token's own row,
    wpe its position's, lm_head the target's; any other matrix the row (output unit) that
    this token's gradient pushed hardest."""
    token, target = view.tokens[view.pos], view.tokens[view.pos + 1]
    if name == "wte":
        return token, f"row {token}: the embedding of “{view.labels[token]}”"
    if name == "wpe":
        return view.pos, f"row {view.pos}: the embedding of position {view.pos}"
    if name == "lm_head":
        return target, f"row {target}: the weights that score “{view.labels[target]}”"
    row = int(np.argmax(np.linalg.norm(np.asarray(token_grad, np.float64), axis=1)))
    return row, f"row {row}: the row this token's gradient pushed hardest"


def probability_and_loss(view, params):
    """(p(target), loss) of the view's token, and the mean loss of the step's whole training
    line, with `params` (a fresh forward pass)."""
    model = model_at(view.run, params)
    tokens = np.asarray(view.tokens, np.intp)
    logits = np.asarray(model.logits(tokens[: view.pos + 1])[-1], np.float64)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    target = int(tokens[view.pos + 1])
    line_loss, _ = model.loss_and_grads(view.line)
    return float(p[target]), float(-np.log(p[target])), float(line_loss)


def change_words(before, after):
    if after > before:
        return "rose"
    return "fell" if after < before else "stayed"


def apply_update(view):
    """The update panel's context (or {"update_error": why})."""
    try:
        step = replay_step(view.run, view.step)
    except CannotReplay as exc:
        return {"update_error": str(exc)}
    same = all(np.array_equal(step["before"][k], p) for k, p in view.model.params.items())
    if not same or step["doc"] != view.line:
        return {
            "update_error": "Replaying the run did not give the parameters stored for this "
            "step (a different machine or library version), so the update is not shown."
        }
    c1, c2 = 1 - step["beta1"] ** step["t"], 1 - step["beta2"] ** step["t"]
    weights = []
    for node in view.trace.tape.params():
        if node.grad is None:
            continue
        name = node.name
        r, why = token_row_of(view, name, node.grad)
        m_hat, v_hat = step["m"][name][r] / c1, step["v"][name][r] / c2
        delta = step["update"][name][r]
        weights.append(
            {
                "name": name,
                "shape": shape_text(node.value),
                "row": r,
                "why": why,
                "rows": [
                    vector_numbers("this token's ∇", np.asarray(node.grad[r], np.float64)),
                    vector_numbers("the step's ∇ (what Adam uses)", step["grad"][name][r]),
                    vector_numbers("m̂ (running mean of ∇)", m_hat),
                    vector_numbers("v̂ (running mean of ∇²)", v_hat),
                    vector_numbers("Δ = −lr · m̂ / (√v̂ + ε)", delta),
                    vector_numbers("weight before", step["before"][name][r]),
                    vector_numbers("weight after", step["after"][name][r]),
                ],
                "row_norm": norm(delta),
                "matrix_norm": norm(step["update"][name]),
            }
        )
    p0, loss0, line0 = probability_and_loss(view, step["before"])
    p1, loss1, line1 = probability_and_loss(view, step["after"])
    target = view.labels[view.tokens[view.pos + 1]]
    return {
        "update": {
            "lr": step["lr"],
            "t": step["t"],
            "beta1": step["beta1"],
            "beta2": step["beta2"],
            "eps": step["eps"],
            "weights": weights,
            "token": {
                "target": target,
                "p_before": p0,
                "p_after": p1,
                "p_words": change_words(p0, p1),
                "loss_before": loss0,
                "loss_after": loss1,
                "loss_words": change_words(loss0, loss1),
            },
            "line": {
                "positions": len(view.line) - 1,
                "loss_before": line0,
                "loss_after": line1,
                "loss_words": change_words(line0, line1),
            },
            "fmt_lr": fmt(step["lr"]),
        }
    }
