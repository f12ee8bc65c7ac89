"""The op-level trace of one token: its graph, its gradients, its JSON form."""

import json

import numpy as np
import pytest

from engine import GPT, GPTConfig, Trainer, trace_token

MAX = {"n_embd": 64, "n_head": 8, "n_layer": 2, "block_size": 64}


def model(vocab_size=20, n_embd=16, n_head=4, n_layer=2, block_size=16, seed=0):
    config = GPTConfig(vocab_size, n_embd, n_head, n_layer, block_size, "float64")
    return GPT(config, seed=seed)


@pytest.mark.parametrize(
    ("config", "position"),
    [
        ({}, 0),
        ({}, 7),
        ({"n_layer": 1, "n_head": 1, "n_embd": 4, "block_size": 4}, 3),
        (MAX, 40),
        (MAX, 63),
    ],
)
def test_trace_gradients_equal_the_token_loss_gradients(config, position):
    m = model(**config, seed=position)
    block = m.config.block_size
    tokens = np.random.default_rng(position).integers(0, 20, block + 1)
    trace = trace_token(m, tokens, position)
    loss, grads = m.loss_and_grads(tokens[: position + 2], positions=[position])
    assert trace.loss == loss
    traced = trace.param_grads()
    assert list(traced) == list(m.params)
    for name, grad in grads.items():
        assert np.allclose(traced[name], grad, rtol=1e-12, atol=1e-15), name
    # the same token's loss inside a full-sequence run: causal attention ignores later tokens
    whole, _ = m.loss_and_grads(tokens, positions=[position])
    assert np.isclose(whole, loss, rtol=1e-12)


def test_graph_shape_at_the_max_config():
    m = model(**MAX)
    tokens = np.random.default_rng(0).integers(0, 20, 65)
    trace = trace_token(m, tokens, 63)
    nodes = trace.nodes
    assert len(nodes) <= 80  # a few dozen tensors, not thousands of scalars
    ops = {n.op for n in nodes}
    assert ops >= {"param", "input", "embedding lookup", "add", "rmsnorm", "matmul", "split heads",
                   "attention scores", "causal mask", "softmax", "weighted sum", "merge heads",
                   "relu", "cross-entropy"}
    weights = [n for n in nodes if n.name == "attention weights"]
    assert [n.layer for n in weights] == [0, 1]
    assert all(n.value.shape == (8, 64, 64) and n.heads for n in weights)
    assert weights[1].label == "layer 1 · attention weights"
    assert all(n.formula for n in nodes if n.kind == "op")
    loss = nodes[-1]
    assert loss.op == "cross-entropy" and loss.grad == 1


def test_backward_order_is_reverse_topological():
    trace = trace_token(model(), np.arange(12) % 20, 10)
    order = trace.backward_order
    assert order[0] == trace.nodes[-1].id
    seen = {}
    for rank, node_id in enumerate(order):
        seen[node_id] = rank
    for node in trace.nodes:  # every node is visited after everything that consumes it
        for inp in node.inputs:
            if inp.id in seen:
                assert seen[inp.id] > seen[node.id]
    params = [n for n in trace.nodes if n.kind == "param"]
    assert all(n.id in seen for n in params)
    assert all(n.grad is None for n in trace.nodes if n.kind == "input")


def test_only_the_traced_token_gets_logit_gradient():
    trace = trace_token(model(), np.arange(12) % 20, 5)
    logits = trace.tape.find("logits")[0]
    probs = trace.nodes[-1].saved["probs"]
    expected = np.zeros_like(probs)
    expected[5] = probs[5]
    expected[5, 6] -= 1
    assert np.allclose(logits.grad, expected)
    assert logits.value.shape == (6, 20)  # inputs are tokens[: position + 1]


def test_to_dict_is_json_and_shows_each_head():
    trace = trace_token(model(n_head=4), np.arange(10) % 20, 8)
    d = json.loads(json.dumps(trace.to_dict(values=True), allow_nan=False))
    assert d["position"] == 8 and d["target"] == 9 and d["tokens"] == list(range(10))
    assert d["backward_order"] == trace.backward_order
    by_id = {n["id"]: n for n in d["nodes"]}
    masked = next(n for n in d["nodes"] if n["name"] == "masked scores")
    assert masked["head_axis"] == 0 and masked["shape"] == [4, 9, 9]
    assert masked["head_labels"][2] == "layer 0 · head 2 · masked scores"
    assert masked["values"][0][0][1] is None  # −inf above the diagonal
    weights = by_id[masked["id"] + 1]
    assert weights["op"] == "softmax" and weights["formula"] == "dx = y ⊙ (dy − Σⱼ y ⊙ dy)"
    assert np.allclose(np.sum(weights["values"], -1), 1, atol=1e-3)
    assert weights["grad"] is not None and weights["inputs"] == [masked["id"]]
    wq = next(n for n in d["nodes"] if n["name"] == "layer1.attn_wq")
    assert wq["kind"] == "param" and wq["layer"] == 1 and wq["part"] == "attn"
    assert np.allclose(wq["grad"], trace.param_grads()["layer1.attn_wq"], rtol=1e-3, atol=1e-9)
    light = trace.to_dict()
    assert "values" not in light["nodes"][0] and light["nodes"][1]["norm"] > 0
    assert json.loads(json.dumps(trace.node_dict(masked["id"]))) == masked


def test_trainer_traces_its_next_document():
    t = Trainer(["abcab", "bca"], n_embd=8, n_head=2, n_layer=1, block_size=8, num_steps=5,
                learning_rate=0.01, dtype="float64")
    t.step()
    _, tokens = t.next_doc()
    trace = t.trace(2)
    assert np.array_equal(trace.tokens, tokens[:4])
    with pytest.raises(ValueError, match="position must be in"):
        t.trace(len(tokens) - 1)
