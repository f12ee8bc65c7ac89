"""runs/lenses/ladder.py: the rung where a guess was decided, and the direct contributions
against an independent calculation."""

import numpy as np
import pytest

from engine import GPT, GPTConfig, look_inside
from runs.lenses.ladder import decided_rungs, direct_contributions, rung_logits, top_k


def test_decided_is_the_first_rung_from_which_the_answer_stays_on_top():
    top1 = np.array([
        # positions: always the answer, decided at rung 2, at the output only, lost and regained
        [7, 1, 1, 7],
        [7, 1, 1, 3],
        [7, 5, 1, 7],
        [7, 5, 4, 7],
    ])
    assert decided_rungs(top1).tolist() == [0, 2, 3, 2]


def test_top_k_is_best_first_and_keeps_ties_in_id_order():
    probs = np.array([0.1, 0.4, 0.1, 0.4])
    assert top_k(probs, 3) == [(1, 0.4), (3, 0.4), (0, 0.1)]


@pytest.fixture
def model():
    return GPT(GPTConfig(9, 16, 4, 2, 12, "float64"), seed=5)


def test_the_last_rung_is_the_output(model):
    ids = np.array([8, 1, 2, 3, 1])
    inside = look_inside(model, ids)
    np.testing.assert_allclose(rung_logits(inside, model.params["lm_head"])[-1],
                               model.logits(ids), atol=1e-12)


def test_direct_contributions_add_up_to_the_logit_and_match_zeroing_each_part(model):
    ids, pos, target = np.array([8, 1, 2, 3, 1, 0]), 4, 6
    inside = look_inside(model, ids)
    parts = direct_contributions(inside, model.params, pos, target)
    assert sum(value for *_, value in parts) == pytest.approx(inside.logits[pos, target], abs=1e-9)
    assert [p[0] for p in parts] == ["character", "position"] + (["head"] * 4 + ["mlp"]) * 2
    # independent: a head's direct share is its own slice of attn_wo applied to its own
    # output, read by lm_head; recompute it from the attention weights and values
    x = inside.rungs[2]  # the stream entering layer 1
    xn = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5)
    d = 4
    v = xn @ model.params["layer1.attn_wv"].T  # (T, C)
    attn = inside.attn_weights[1]  # (H, T, T)
    for head in range(4):
        out = attn[head, pos] @ v[:, head * d:(head + 1) * d]  # (D,)
        written = model.params["layer1.attn_wo"][:, head * d:(head + 1) * d] @ out
        expected = written @ model.params["lm_head"][target]
        assert parts[7 + head][3] == pytest.approx(expected, abs=1e-9)
