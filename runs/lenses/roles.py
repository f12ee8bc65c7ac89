"""Head roles: which recognisable pattern a head's attention follows, scored on a text.

Every score reads one head's attention weights `A` (T×T: row i is the position that looks,
column j the position it looks at; causal, so A[i, j] = 0 for j > i; each row sums to 1)
and the text's token ids `tok` (tok[0] is the BOS that starts every line). Each role
function returns the per-position values its score averages, over the positions where the
pattern can show at all (an empty array when there are none); the score is their mean, in
[0, 1]: the share of attention that lands where the pattern says.

A head that spreads its attention evenly over everything before it scores something too (on
a short line, three characters are a big share), so a role is judged by its lift over that
even spread: lift = (score − even) / (1 − even), where `even` is the same score of the
uniform pattern A[i, j] = 1 / (i + 1) on the same text. A head takes a role when its lift is
at least ROLE_LIFT; when several qualify, the first in ROLES (most specific first).
"""

from dataclasses import dataclass

import numpy as np

LOCAL_WIDTH = 3  # the local window: this many characters just before
ROLE_LIFT = 0.5


def previous_token(attn, tok):
    """Previous-token: values A[i, i − 1] for i = 1 … T − 1."""
    t = len(tok)
    rows = np.arange(1, t)
    return attn[rows, rows - 1]


def first_token(attn, tok):
    """First-token (BOS) sink: values A[i, 0] for i = 1 … T − 1."""
    return attn[1 : len(tok), 0]


def same_character(attn, tok):
    """Same character: values Σ_{j ∈ S(i)} A[i, j] with S(i) = {j < i : tok[j] = tok[i]}, for
    the positions i whose character came before (S(i) not empty)."""
    tok = np.asarray(tok)
    earlier = np.tril(tok[:, None] == tok[None, :], -1)  # (T, T): j < i and same character
    rows = earlier.any(1)
    return (attn * earlier).sum(1)[rows]


def local_window(attn, tok, width=LOCAL_WIDTH):
    """Local window: values Σ_{j = i − width}^{i − 1} A[i, j] for i = width + 1 … T − 1 (the
    window never reaches position 0, so a BOS sink is not local)."""
    t = len(tok)
    i, j = np.indices((t, t))
    window = (j < i) & (j >= i - width)
    rows = np.arange(width + 1, t)
    return (attn * window).sum(1)[rows]


def induction(attn, tok):
    """Induction-like (copying): values Σ_{j ∈ N(i)} A[i, j] with N(i) = {j : 1 ≤ j < i,
    tok[j − 1] = tok[i]}, the characters that came right after an earlier copy of the
    current one ("last time after this came that: look at that"), for the positions i
    where N(i) is not empty."""
    tok = np.asarray(tok)
    t = len(tok)
    after_copy = np.zeros((t, t), bool)
    after_copy[:, 1:] = tok[:, None] == tok[None, :-1]  # column j: tok[j − 1] = tok[i]
    after_copy &= np.tri(t, t, -1, dtype=bool)  # j < i
    rows = after_copy.any(1)
    return (attn * after_copy).sum(1)[rows]


@dataclass(frozen=True)
class Role:
    key: str
    title: str
    explain: str  # one plain sentence
    values: object  # the role function


ROLES = (
    Role("previous", "previous-token",
         "It looks at the character just before the current one.", previous_token),
    Role("first", "first-token sink",
         "It parks its attention on the start-of-line marker (BOS) when nothing else is "
         "worth looking at.", first_token),
    Role("induction", "induction-like",
         "It looks at the character that followed an earlier copy of the current one, so "
         "it can copy what came next last time.", induction),
    Role("same", "same-character",
         "It looks back at earlier copies of the character it is on.", same_character),
    Role("local", "local window",
         f"It spreads its attention over the last {LOCAL_WIDTH} characters.", local_window),
)
ROLE_KEYS = [role.key for role in ROLES]


def uniform_attention(t):
    """The even spread A[i, j] = 1 / (i + 1) for j ≤ i: the baseline of every lift."""
    return np.tril(np.ones((t, t))) / np.arange(1, t + 1)[:, None]


def score_heads(attn_by_text, tok_by_text):
    """Role scores of every head, pooled over texts: each role's values of all texts
    together, then their mean (None when no text has a position where it can show).

    attn_by_text: [(n_layer, n_head, T, T)], tok_by_text: [(T,)]. Returns
    {"scores": [layer][head][role index], "even": [role index]} (ROLE_KEYS order)."""
    n_layer, n_head = np.shape(attn_by_text[0])[:2]
    pooled = [[[[] for _ in ROLES] for _ in range(n_head)] for _ in range(n_layer)]
    even = [[] for _ in ROLES]
    for attn, tok in zip(attn_by_text, tok_by_text, strict=True):
        attn = np.asarray(attn, np.float64)
        uniform = uniform_attention(len(tok))
        for r, role in enumerate(ROLES):
            even[r].append(role.values(uniform, tok))
            for layer in range(n_layer):
                for head in range(n_head):
                    pooled[layer][head][r].append(role.values(attn[layer, head], tok))
    return {
        "scores": [[[mean(values) for values in head] for head in layer] for layer in pooled],
        "even": [mean(values) for values in even],
    }


def mean(arrays):
    values = np.concatenate(arrays) if arrays else np.empty(0)
    return round(float(values.mean()), 4) if len(values) else None


def lift(score, even):
    """How far above the even spread: (score − even) / (1 − even); None without a score."""
    if score is None or even is None:
        return None
    return (score - even) / (1 - even) if even < 1 else 0.0


def role_of(scores, even):
    """The role (a Role) of one head from its scores (ROLE_KEYS order), or None: the first
    role whose lift is at least ROLE_LIFT."""
    for role, score, base in zip(ROLES, scores, even, strict=True):
        value = lift(score, base)
        if value is not None and value >= ROLE_LIFT:
            return role
    return None
