"""One lens reading: a run's model at a stored step, on a text, at a selected position, with
some parts switched off. Everything the page shows below its controls comes from here."""

from dataclasses import dataclass

import numpy as np
from django.core.cache import cache

from engine import look_inside
from runs.lenses.ablation import ablated_logits, mean_loss, mean_loss_change, position_losses
from runs.lenses.inputs import held_out_documents
from runs.lenses.ladder import decided_rungs, direct_contributions, rung_logits, softmax, top_k
from runs.lenses.roles import ROLES, lift, role_of, score_heads
from runs.lenses.timeline import head_label

TOP_K = 3


class LensInputError(ValueError):
    """A value the student gave that the lenses cannot read; the message says what to try."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def encode_text(run, text):
    """[BOS] + the text's characters + [BOS] as token ids, or LensInputError saying why not."""
    from engine import Vocab

    block = int(run.config.get("block_size", 16))
    if not text:
        raise LensInputError("Type at least one character.")
    if len(text) > block - 1:
        raise LensInputError(
            f"The text has {len(text)} characters; this model reads at most {block} at once "
            f"(its block size), the start-of-line marker included: shorten it to {block - 1}."
        )
    unknown = sorted(set(text) - set(run.vocab))
    if unknown:
        shown = " ".join(repr(ch) for ch in unknown[:8])
        raise LensInputError(
            f"The model never saw these characters, so it has no embedding for them: {shown}. "
            "Use only characters of the text it trained on."
        )
    return Vocab(run.vocab).encode(text, block)


@dataclass
class Reading:
    run: object
    model: object
    tokens: np.ndarray  # [BOS] + characters + [BOS], cut to the block
    pos: int
    ablation: object
    step: int

    def __post_init__(self):
        self.ids, self.targets = self.tokens[:-1], self.tokens[1:]
        self.inside = look_inside(self.model, self.ids)
        self.labels = self.run_labels()
        self.rung_probs = softmax(rung_logits(self.inside, self.model.params["lm_head"]))
        self.top1 = self.rung_probs.argmax(-1)  # (R, T)
        self.decided = decided_rungs(self.top1)

    def run_labels(self):
        from runs.page import token_labels

        return token_labels(self.run)

    def label(self, token):
        return self.labels[int(token)]

    # --- the ladder ---

    def ladder(self):
        rungs = self.inside.rung_names
        positions = [
            {
                "pos": t,
                "text": self.label(self.ids[t]),
                "target": self.label(self.targets[t]),
                "answer": self.label(self.top1[-1, t]),
                "right": bool(self.top1[-1, t] == self.targets[t]),
                "decided": int(self.decided[t]),
                "decided_name": rung_title(rungs[self.decided[t]]),
                "rungs": [self.label(self.top1[r, t]) for r in range(len(rungs))],
            }
            for t in range(len(self.ids))
        ]
        t = self.pos
        detail = [
            {
                "name": rung_title(name),
                "target_prob": float(self.rung_probs[r, t, self.targets[t]]),
                "top": [
                    {"text": self.label(i), "prob": p, "is_target": i == self.targets[t]}
                    for i, p in top_k(self.rung_probs[r, t], TOP_K)
                ],
            }
            for r, name in enumerate(rungs)
        ]
        rows = [
            {
                "name": rung_title(name),
                "cells": [
                    {"text": p["rungs"][r], "same": p["rungs"][r] == p["answer"], "pos": p["pos"]}
                    for p in positions
                ],
            }
            for r, name in enumerate(rungs)
        ]
        return {
            "rungs": [rung_title(name) for name in rungs],
            "rows": rows,
            "positions": positions,
            "detail": detail,
            "selected": positions[t],
        }

    # --- direct contributions ---

    def contributions(self):
        t, target = self.pos, int(self.targets[self.pos])
        parts = direct_contributions(self.inside, self.model.params, t, target)
        biggest = max(abs(value) for *_, value in parts) or 1.0
        rows = [
            {
                "label": part_label(kind, layer, head),
                "value": value,
                "width": f"{50 * abs(value) / biggest:.1f}",
                "up": value >= 0,
            }
            for kind, layer, head, value in parts
        ]
        return {
            "rows": rows,
            "sum": sum(value for *_, value in parts),
            "logit": float(self.inside.logits[t, target]),
            "target": self.label(target),
        }

    # --- ablation ---

    def ablation_result(self):
        if self.ablation.empty:
            return None
        before_logits = self.inside.logits
        after_logits = ablated_logits(self.model, self.ids, self.ablation)
        before = position_losses(before_logits, self.targets)
        after = position_losses(after_logits, self.targets)
        t = self.pos
        held = held_tokens(self.run)
        baseline = held_baseline(self.run, self.step, self.model, held)
        mean_before, mean_after = mean_loss_change(self.model, held, self.ablation, baseline)
        return {
            "parts": self.ablation.parts,
            "losses": [
                {"pos": i, "text": self.label(self.ids[i]), "target": self.label(self.targets[i]),
                 "before": float(b), "after": float(a)}
                for i, (b, a) in enumerate(zip(before, after, strict=True))
            ],
            "max_loss": float(max(before.max(), after.max(), 1e-9)),
            "mean_before": float(before.mean()),
            "mean_after": float(after.mean()),
            "top_before": self.top_list(softmax(before_logits[t])),
            "top_after": self.top_list(softmax(after_logits[t])),
            "held_count": len(held),
            "held_before": mean_before,
            "held_after": mean_after,
        }

    def top_list(self, probs):
        target = self.targets[self.pos]
        return [
            {"text": self.label(i), "prob": p, "is_target": i == target}
            for i, p in top_k(probs, TOP_K)
        ]

    # --- head roles on this text ---

    def roles(self):
        scored = score_heads([self.inside.attn_weights], [self.ids])
        rows = []
        for layer, heads in enumerate(scored["scores"]):
            for head, scores in enumerate(heads):
                role = role_of(scores, scored["even"])
                rows.append({
                    "label": head_label(layer, head),
                    "role": role,
                    "cells": [
                        {"score": s, "lift": lift(s, e), "strong": role is not None
                         and role.key == r.key}
                        for s, e, r in zip(scores, scored["even"], ROLES, strict=True)
                    ],
                })
        return {"rows": rows, "even": scored["even"]}


def held_baseline(run, step, model, held):
    """The model's mean loss on the held-out lines with nothing switched off, cached per
    stored step (it is the same for every ablation)."""
    key = f"lens-held:{run.pk}:{run.created_at.timestamp()}:{step}"
    found = cache.get(key)
    if found is None:
        found = mean_loss(model, held)
        cache.set(key, found, 600)
    return found


def held_tokens(run):
    """The held-out lines as token ids (lines longer than the block are cut to it)."""
    from engine import Vocab

    vocab, block = Vocab(run.vocab), int(run.config.get("block_size", 16))
    return [vocab.encode(doc, block) for doc in held_out_documents(run)]


def rung_title(name):
    """'layer 0 mlp' -> "layer 0's MLP"; 'embeddings' stays."""
    if name == "embeddings":
        return "the embeddings"
    _, layer, part = name.split()
    return f"layer {layer}'s {'MLP' if part == 'mlp' else 'attention'}"


def part_label(kind, layer, head):
    if kind == "character":
        return "the character's embedding"
    if kind == "position":
        return "the position's embedding"
    if kind == "head":
        return head_label(layer, head)
    return f"layer {layer} · MLP"
