"""The validation split and the forward-only look, checked against the full forward."""

import numpy as np
import pytest

from engine import GPT, GPTConfig, Trainer
from engine.evaluation import look, split_documents

CONFIG = GPTConfig(vocab_size=11, n_embd=16, n_head=4, n_layer=2, block_size=12,
                   dtype="float64")


def test_split_sizes_determinism_and_tiny_corpora():
    train, held = split_documents(60, seed=42)
    assert len(held) == 6 and len(train) == 54 and sorted(train + held) == list(range(60))
    assert split_documents(60, seed=42) == (train, held)
    assert split_documents(60, seed=43)[1] != held
    assert split_documents(10, seed=0)[1] and len(split_documents(10, seed=0)[1]) == 1
    assert split_documents(12, seed=0)[1].__len__() == 1  # about 10 %, at least one
    assert split_documents(9, seed=0) == (list(range(9)), [])  # too small: trains on all
    assert split_documents(0, seed=0) == ([], [])


def test_look_matches_the_full_forward_and_backward():
    model = GPT(CONFIG, seed=3)
    tokens = np.array([10, 1, 2, 3, 4, 5, 6, 7, 10])
    seen = look(model, tokens, top_k=3)
    loss, _ = model.loss_and_grads(tokens)
    assert seen["loss"] == pytest.approx(loss, rel=1e-12)
    assert seen["losses"].mean() == pytest.approx(loss, rel=1e-12)
    # an independent softmax of the logits, position by position
    logits = model.logits(tokens[:-1])
    for t, target in enumerate(tokens[1:]):
        p = np.exp(logits[t] - logits[t].max())
        p /= p.sum()
        assert seen["losses"][t] == pytest.approx(-np.log(p[target]), rel=1e-10)
        assert seen["target_probs"][t] == pytest.approx(p[target], rel=1e-10)
        assert list(seen["topk_ids"][t]) == list(np.argsort(-p, kind="stable")[:3])
    assert seen["attn_weights"].shape == (2, 4, 8, 8)
    np.testing.assert_allclose(seen["attn_weights"].sum(-1), 1.0)


def test_look_reports_relu_units_active_anywhere():
    model = GPT(CONFIG, seed=3)
    tokens = np.array([10, 1, 2, 10])
    seen = look(model, tokens)
    tape = model.forward(tokens[:-1], tokens[1:])
    hidden = [n.value for n in tape.find("mlp hidden")]  # before the relu
    assert seen["relu_active"].shape == (2, 64)
    for layer in range(2):
        np.testing.assert_array_equal(seen["relu_active"][layer], (hidden[layer] > 0).any(0))
    assert "topk_ids" not in seen


def test_held_out_documents_are_in_the_vocabulary_but_never_trained_on():
    t = Trainer(["ab", "ba"], n_embd=8, n_head=2, n_layer=1, block_size=4, num_steps=4,
                learning_rate=0.01, held_out=["abz"])
    assert "z" in t.vocab.chars and len(t.doc_tokens) == 2
    assert {t.next_doc()[0] for _ in range(1)} <= {0, 1}
