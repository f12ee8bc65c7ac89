"""Head roles over training: scored while the run trains, read back as one timeline.

At ROLE_POINTS steps spread over the run (and every snapshot step) the trainer scores every
head on the run's role texts (inputs.role_texts: the same lines all run long) with the
parameters that step's forward pass uses, and stores the scores in that step's event
({"head_roles": {"scores": [layer][head][role], "even": [role]}}, roles in ROLE_KEYS
order). The timeline is then one query. A run trained before role scores existed is scored
from its stored checkpoints instead, once per server process.
"""

import math

from django.core.cache import cache

from engine import look_inside
from runs.lenses.inputs import documents_of, model_for, role_texts
from runs.lenses.roles import ROLES, lift, role_of, score_heads
from runs.models import Kind

ROLE_POINTS = 40


def role_schedule(num_steps, snapshot_steps=(), points=ROLE_POINTS):
    """Step 1, every ceil(num_steps / points) steps, the last step and every snapshot step."""
    every = max(1, math.ceil(num_steps / points))
    return sorted({1, num_steps, *range(every, num_steps + 1, every), *snapshot_steps})


def role_scores(model, token_lists):
    """score_heads of `model` on lines of token ids ([BOS] + characters + [BOS])."""
    attn = [look_inside(model, tokens[:-1]).attn_weights for tokens in token_lists]
    return score_heads(attn, [tokens[:-1] for tokens in token_lists])


class RoleScorer:
    """Scores a trainer's model on the run's role texts (encoded once)."""

    def __init__(self, trainer, documents):
        block = trainer.config.block_size
        texts = role_texts(documents, trainer.seed)
        self.tokens = [trainer.vocab.encode(text, block) for text in texts]

    def scores(self, model):
        return role_scores(model, self.tokens) if self.tokens else None


def stored_roles(run):
    """[(step, head_roles)] stored while training, by step."""
    rows = (
        run.events.filter(kind=Kind.STEP, data__has_key="head_roles")
        .order_by("step")
        .values_list("step", "data__head_roles")
    )
    return [(step, roles) for step, roles in rows if roles]


def recomputed_roles(run):
    """[(step, head_roles)] at every stored checkpoint, for runs trained without role scores;
    cached (a finished run's checkpoints never change)."""
    steps = sorted(run.checkpoints.values_list("step", flat=True))
    key = f"lens-roles:{run.pk}:{run.created_at.timestamp()}:{len(steps)}:{steps[-1:]}"
    found = cache.get(key)
    if found is None:
        from engine import Vocab

        vocab = Vocab(run.vocab)
        block = int(run.config.get("block_size", 16))
        texts = role_texts(documents_of(run), run.seed)
        tokens = [vocab.encode(text, block) for text in texts]
        found = [(step, role_scores(model_for(run, step), tokens)) for step in steps]
        cache.set(key, found, None if run.is_finished else 60)
    return found


def head_label(layer, head):
    return f"layer {layer} · head {head}"


def timeline(run):
    """The roles of every head at every scored step, and when each took its last role:
    {"steps", "heads": [{"layer", "head", "label", "roles": [key | None per step],
    "scores": [[score per role] per step], "became": (role, step) | None, "sentence"}]}."""
    scored = stored_roles(run) or (recomputed_roles(run) if run.vocab else [])
    scored = [(step, roles) for step, roles in scored if roles]
    if not scored:
        return {"steps": [], "heads": []}
    steps = [step for step, _ in scored]
    n_layer, n_head = len(scored[0][1]["scores"]), len(scored[0][1]["scores"][0])
    heads = []
    for layer in range(n_layer):
        for head in range(n_head):
            per_step = [roles["scores"][layer][head] for _, roles in scored]
            roles = [role_of(s, r["even"]) for s, (_, r) in zip(per_step, scored, strict=True)]
            became = since(steps, roles)
            heads.append({
                "layer": layer,
                "head": head,
                "label": head_label(layer, head),
                "roles": [role.key if role else None for role in roles],
                "scores": per_step,
                "became": None if became is None else (became[0].key, became[1]),
                "sentence": sentence(layer, head, became, per_step[-1], scored[-1][1]["even"]),
            })
    return {"steps": steps, "heads": heads}


def since(steps, roles):
    """(role, step): the head's role at the last scored step and the first scored step from
    which it held that role at every later one; None when it ends with no role."""
    if roles[-1] is None:
        return None
    first = len(roles) - 1
    while first > 0 and roles[first - 1] == roles[-1]:
        first -= 1
    return roles[-1], steps[first]


def sentence(layer, head, became, last_scores, even):
    name = head_label(layer, head).capitalize()
    if became is not None:
        role, step = became
        if step <= 1:
            return f"{name} was a {role.title} head from the start."
        return f"{name} became a {role.title} head around step {step}."
    lifts = [lift(s, e) for s, e in zip(last_scores, even, strict=True)]
    best = max(
        ((value, role) for value, role in zip(lifts, ROLES, strict=True) if value is not None),
        default=None,
        key=lambda pair: pair[0],
    )
    if best is None or best[0] <= 0:
        return f"{name} follows none of these patterns yet."
    return (
        f"{name} has no clear role yet (closest: {best[1].title}, "
        f"{round(100 * best[0])}% of the way from an even spread)."
    )
