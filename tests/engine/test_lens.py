"""engine/lens.py and the masks of GPT.forward: the lenses read the very forward pass the
model computes, and switching nothing off changes nothing."""

import numpy as np
import pytest

from engine import GPT, GPTConfig, look_inside


def make(n_layer=2, n_head=4, dtype="float32", seed=3):
    model = GPT(GPTConfig(13, 16, n_head, n_layer, 12, dtype), seed=seed)
    return model, np.array([12, 0, 5, 5, 3, 7, 0, 1, 2])


@pytest.mark.parametrize("n_layer", [1, 2])
def test_masks_of_ones_give_identical_logits(n_layer):
    model, ids = make(n_layer)
    plain = model.logits(ids)
    ones = look_inside(model, ids, np.ones((n_layer, 4)), np.ones(n_layer))
    assert np.array_equal(ones.logits, plain)  # bit for bit, float32
    assert np.array_equal(look_inside(model, ids).logits, plain)


def test_the_rungs_are_named_in_order_and_the_last_is_the_output():
    model, ids = make()
    inside = look_inside(model, ids)
    assert inside.rung_names == ["embeddings", "layer 0 attention", "layer 0 mlp",
                                 "layer 1 attention", "layer 1 mlp"]
    assert inside.rungs.shape == (5, len(ids), 16)
    assert np.array_equal(inside.rungs[-1] @ model.params["lm_head"].T, inside.logits)


def test_the_stream_is_the_sum_of_what_each_head_and_block_wrote():
    model, ids = make(dtype="float64")
    inside = look_inside(model, ids)
    np.testing.assert_allclose(inside.token_part + inside.position_part, inside.rungs[0],
                               atol=1e-12)
    total = inside.rungs[0].copy()
    d = model.config.head_dim
    for layer in range(2):
        wo = model.params[f"layer{layer}.attn_wo"]
        for head in range(4):
            total += inside.head_outputs[layer, head] @ wo[:, head * d:(head + 1) * d].T
        total += inside.mlp_outputs[layer]
    np.testing.assert_allclose(total, inside.rungs[-1], atol=1e-12)


def test_a_head_switched_off_is_its_output_weights_set_to_zero():
    model, ids = make(dtype="float64")
    mask = np.ones((2, 4))
    mask[1, 2] = mask[0, 0] = 0
    masked = look_inside(model, ids, head_mask=mask).logits
    d = model.config.head_dim
    model.params["layer1.attn_wo"][:, 2 * d:3 * d] = 0  # independent: the weights themselves
    model.params["layer0.attn_wo"][:, 0:d] = 0
    np.testing.assert_allclose(masked, model.logits(ids), atol=1e-12)


def test_an_mlp_block_switched_off_is_its_second_layer_set_to_zero():
    model, ids = make(dtype="float64")
    masked = look_inside(model, ids, mlp_mask=np.array([1.0, 0.0])).logits
    model.params["layer1.mlp_fc2"][...] = 0
    np.testing.assert_allclose(masked, model.logits(ids), atol=1e-12)
    assert not np.allclose(masked, look_inside(make(dtype="float64")[0], ids).logits)


def test_masked_forward_still_trains_through_the_tape():
    model, ids = make(dtype="float64")
    tape = model.forward(ids[:-1], ids[1:], head_mask=np.zeros((2, 4)))
    tape.backward()
    grads = {n.name: n.grad for n in tape.params()}
    # heads switched off pass no gradient to their queries, keys and values
    assert not np.any(grads["layer0.attn_wq"]) and not np.any(grads["layer1.attn_wv"])
    assert np.any(grads["lm_head"])
