"""runs/lenses/ablation.py: which parts a student can switch off, and the losses after."""

import numpy as np
import pytest

from engine import GPT, GPTConfig
from runs.lenses.ablation import (
    ablated_logits,
    mean_loss_change,
    parse_ablation,
    position_losses,
)


def test_parts_parse_into_masks():
    ablation = parse_ablation(["h0.1", "attn1", " mlp0 ", "h0.1", ""], 2, 4)
    assert ablation.parts == ["attn1", "h0.1", "mlp0"]
    assert ablation.head_mask.tolist() == [[1, 0, 1, 1], [0, 0, 0, 0]]
    assert ablation.mlp_mask.tolist() == [0, 1]
    assert parse_ablation([], 2, 4).empty


@pytest.mark.parametrize("bad", ["h2.0", "h0.4", "attn2", "mlp5", "head1", "h0.1.2", "x" * 300])
def test_a_part_the_model_lacks_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="is not a part of this model"):
        parse_ablation([bad], 2, 4)


def test_losses_after_switching_off_equal_the_model_without_those_weights():
    model = GPT(GPTConfig(9, 16, 4, 2, 12, "float64"), seed=2)
    tokens = np.array([8, 1, 2, 3, 1, 0, 8])
    ids, targets = tokens[:-1], tokens[1:]
    ablation = parse_ablation(["h1.2", "mlp0"], 2, 4)
    after = position_losses(ablated_logits(model, ids, ablation), targets)
    probs_before = np.exp(model.logits(ids))
    probs_before /= probs_before.sum(-1, keepdims=True)
    before = -np.log(probs_before[np.arange(6), targets])
    lines = [tokens, np.array([8, 4, 4, 8])]
    mean_before, mean_after = mean_loss_change(model, lines, ablation)
    second_before = mean_of(model, lines[1])
    model.params["layer1.attn_wo"][:, 8:12] = 0  # independent: zero the weights themselves
    model.params["layer0.mlp_fc2"][...] = 0
    logits = model.logits(ids)
    expected = logits - logits.max(-1, keepdims=True)
    expected = -(expected[np.arange(6), targets] - np.log(np.exp(expected).sum(-1)))
    np.testing.assert_allclose(after, expected, atol=1e-10)
    assert mean_before == pytest.approx((before.mean() + second_before) / 2)
    assert mean_after == pytest.approx((after.mean() + mean_of(model, lines[1])) / 2)


def mean_of(model, tokens):
    """The mean loss of one line with the model's weights as they are now."""
    logits = model.logits(tokens[:-1])
    shifted = logits - logits.max(-1, keepdims=True)
    rows = np.arange(len(tokens) - 1)
    return float(-(shifted[rows, tokens[1:]] - np.log(np.exp(shifted).sum(-1))).mean())
