"""runs/opview/layout.py: every node of a token's graph placed, nothing overlapping, heads side by
side, the residual stream down the middle."""

import itertools

import numpy as np
import pytest

from engine import GPT, GPTConfig, trace_token
from runs.opview.layout import layout


def traced_nodes(n_head, n_layer=2, n_embd=16, position=9):
    model = GPT(GPTConfig(11, n_embd, n_head, n_layer, 16), seed=3)
    tokens = np.random.default_rng(0).integers(0, 11, 12)
    trace = trace_token(model, tokens, position)
    return trace.to_dict(values=False)["nodes"]


def overlaps(a, b):
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


@pytest.mark.parametrize("n_head", [1, 4, 8])
def test_every_node_is_placed_inside_the_drawing_without_overlaps(n_head):
    nodes = traced_nodes(n_head)
    plan = layout(nodes, n_head)
    boxes = plan["nodes"]
    assert set(boxes) == {n["id"] for n in nodes}
    for box in boxes.values():
        assert box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["w"] <= plan["width"]
        assert box["y"] + box["h"] <= plan["height"]
    for a, b in itertools.combinations(boxes.values(), 2):
        assert not overlaps(a, b), (a, b)


def test_edges_follow_the_inputs_and_run_downwards():
    nodes = traced_nodes(4)
    plan = layout(nodes, 4)
    boxes = plan["nodes"]
    wanted = {(i, n["id"]) for n in nodes for i in n["inputs"]}
    assert {(e["src"], e["dst"]) for e in plan["edges"]} == wanted
    for edge in plan["edges"]:
        assert boxes[edge["src"]]["row"] < boxes[edge["dst"]]["row"]
        assert edge["d"].startswith("M")


def test_the_heads_of_an_attention_op_sit_side_by_side():
    nodes = traced_nodes(4)
    plan = layout(nodes, 4)
    head_nodes = [n for n in nodes if n["head_axis"] is not None]
    assert {n["name"] for n in head_nodes} >= {"attention weights", "attention scores"}
    for n in head_nodes:
        box = plan["nodes"][n["id"]]
        heads = box["heads"]
        assert [h["head"] for h in heads] == [0, 1, 2, 3]
        assert len({h["y"] for h in heads}) == 1
        for left, right in itertools.pairwise(heads):
            assert left["x"] + left["w"] <= right["x"]
        assert heads[0]["x"] >= box["x"] and heads[-1]["x"] + heads[-1]["w"] <= box["x"] + box["w"]
    # head h of the scores feeds head h of the mask: one edge per head between head ops
    scores = next(n for n in nodes if n["name"] == "attention scores")
    masked = next(
        n for n in nodes if n["name"] == "masked scores" and n["layer"] == scores["layer"]
    )
    pairs = [e for e in plan["edges"] if (e["src"], e["dst"]) == (scores["id"], masked["id"])]
    assert len(pairs) == 4


def test_the_residual_stream_runs_down_the_middle_from_embedding_to_loss():
    nodes = traced_nodes(2)
    plan = layout(nodes, 2)
    by_name = {}
    for n in nodes:
        by_name.setdefault(n["name"], []).append(plan["nodes"][n["id"]])
    stream_names = {
        "embedding sum",
        "embedding rmsnorm",
        "residual + attention",
        "residual + mlp",
        "logits",
        "loss",
    }
    stream = [plan["nodes"][n["id"]] for n in nodes if n["name"] in stream_names]
    assert len(stream) == 4 + 2 * 2
    assert len({b["cx"] for b in stream}) == 1
    assert all(b["spine"] for b in stream)
    rows = [b["row"] for b in stream]
    assert rows == sorted(rows)
    # each layer's branches sit to the right of the stream
    middle = stream[0]["cx"]
    for name in ("attention weights", "mlp hidden", "query"):
        assert all(b["x"] > middle for b in by_name[name])
    # the loss is the last row, the embedding tables the first
    assert by_name["loss"][0]["row"] == max(b["row"] for b in plan["nodes"].values())
    assert by_name["wte"][0]["row"] == 0
