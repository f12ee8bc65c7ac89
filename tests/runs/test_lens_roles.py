"""runs/lenses/roles.py: every role score on hand-built attention patterns."""

import numpy as np
import pytest

from runs.lenses.roles import (
    ROLE_KEYS,
    ROLES,
    first_token,
    induction,
    lift,
    local_window,
    previous_token,
    role_of,
    same_character,
    score_heads,
    uniform_attention,
)

BOS = 9
TOKENS = np.array([BOS, 0, 1, 2, 0, 1, 3, 0])  # "abcab" "d" "a": repeats for same and induction


def pattern(t, where):
    """A hand-built causal pattern: row i puts all its weight on column where(i)."""
    attn = np.zeros((t, t))
    for i in range(t):
        attn[i, where(i)] = 1.0
    return attn


def test_a_previous_token_head_scores_one_there_and_little_elsewhere():
    attn = pattern(len(TOKENS), lambda i: max(i - 1, 0))
    assert previous_token(attn, TOKENS).mean() == 1.0
    assert first_token(attn, TOKENS).mean() == pytest.approx(1 / 7)  # only row 1's i-1 is 0
    assert local_window(attn, TOKENS).mean() == 1.0  # the previous character is in the window


def test_a_bos_sink_scores_one_as_first_token_and_zero_as_local():
    attn = pattern(len(TOKENS), lambda i: 0)
    assert first_token(attn, TOKENS).mean() == 1.0
    assert local_window(attn, TOKENS).mean() == 0.0  # rows 4..7: the window stops at 1
    assert len(local_window(attn, TOKENS)) == len(TOKENS) - 4


def test_same_character_reads_only_rows_whose_character_came_before():
    # row i looks at the last earlier copy of its character, or at itself
    def where(i):
        earlier = [j for j in range(i) if TOKENS[j] == TOKENS[i]]
        return earlier[-1] if earlier else i

    values = same_character(pattern(len(TOKENS), where), TOKENS)
    assert len(values) == 3  # positions 4 (a), 5 (b), 7 (a)
    assert values.tolist() == [1.0, 1.0, 1.0]
    assert same_character(np.eye(len(TOKENS)), TOKENS).tolist() == [0.0, 0.0, 0.0]


def test_induction_looks_at_what_followed_an_earlier_copy():
    # at position 4 ("a", seen at 1), the character after that copy is at 2
    def where(i):
        after = [j for j in range(1, i) if TOKENS[j - 1] == TOKENS[i]]
        return after[-1] if after else 0

    attn = pattern(len(TOKENS), where)
    values = induction(attn, TOKENS)
    # rows with an earlier copy followed by something before i: 4 (->2), 5 (->3), 7 (->5)
    assert len(values) == 3 and values.tolist() == [1.0, 1.0, 1.0]
    # a previous-token head is not induction here: position 5's prev (4) follows 3 ≠ b
    prev = induction(pattern(len(TOKENS), lambda i: max(i - 1, 0)), TOKENS)
    assert prev.mean() < 0.5


def test_no_position_to_show_a_pattern_gives_an_empty_array_and_no_score():
    short = np.array([BOS, 0, 1])
    assert len(local_window(uniform_attention(3), short)) == 0
    scored = score_heads([uniform_attention(3)[None, None]], [short])
    assert scored["scores"][0][0][ROLE_KEYS.index("local")] is None
    assert scored["scores"][0][0][ROLE_KEYS.index("same")] is None


def test_the_even_spread_has_no_lift_and_no_role():
    t = len(TOKENS)
    even = uniform_attention(t)
    assert np.allclose(even.sum(1), 1) and np.allclose(np.triu(even, 1), 0)
    scored = score_heads([even[None, None]], [TOKENS])
    assert scored["scores"][0][0] == scored["even"]
    for score, base in zip(scored["scores"][0][0], scored["even"], strict=True):
        assert lift(score, base) == pytest.approx(0.0, abs=1e-9)
    assert role_of(scored["scores"][0][0], scored["even"]) is None


def test_score_heads_pools_texts_and_picks_the_most_specific_role():
    t = len(TOKENS)
    prev = pattern(t, lambda i: max(i - 1, 0))
    sink = pattern(t, lambda i: 0)
    attn = np.stack([prev, sink])[None]  # (1 layer, 2 heads, T, T)
    other = np.array([BOS, 4, 5, 6, 7])
    attn2 = np.stack([pattern(5, lambda i: max(i - 1, 0)), pattern(5, lambda i: 0)])[None]
    scored = score_heads([attn, attn2], [TOKENS, other])
    # pooled: (7 ones + 4 ones) / 11 for the previous-token head
    assert scored["scores"][0][0][0] == 1.0
    # the sink's previous-token values: 1 of 7 and 1 of 4 are ones
    assert scored["scores"][0][1][0] == pytest.approx(2 / 11, abs=1e-4)
    assert role_of(scored["scores"][0][0], scored["even"]).key == "previous"  # before local
    assert role_of(scored["scores"][0][1], scored["even"]).key == "first"


def test_every_role_has_a_sentence_and_a_formula():
    for role in ROLES:
        assert role.explain.endswith(".") and len(role.explain.split()) >= 6
        assert "Σ" in role.values.__doc__ or "A[i" in role.values.__doc__
