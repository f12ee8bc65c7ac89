"""runs/opview/chain.py: the chain rule on one number. Every term's local derivative equals
a finite difference of the op's own forward in float64, and the terms add up to the
engine's gradient entry, for every kind of op in the graph."""

import re

import numpy as np
import pytest
from django.urls import reverse

from engine import GPT, GPTConfig
from runs.models import Run
from runs.opview.chain import chain_rule
from runs.opview.trace import OpView
from runs.training import train_run


@pytest.fixture
def run(student, start_run):
    run = start_run(student, n_layer=2, n_head=2, num_steps=4, snapshot_interval=2)
    assert train_run(run.pk, "test-worker")
    return Run.objects.get(pk=run.pk)


def engine_tape(run, step, tokens, pos):
    """The engine's own graph of the token, built here from the stored parameters."""
    c = run.config
    model = GPT(GPTConfig(run.vocab_size, c["n_embd"], c["n_head"], c["n_layer"], c["block_size"]))
    for name, value in run.params_at(step).items():
        model.params[name][...] = value
    tape = model.forward(tokens[: pos + 1], tokens[1 : pos + 2], positions=[pos])
    tape.backward()
    return tape


def finite_difference(consumer, slot, out_index, in_index, h=1e-6):
    values = [
        np.asarray(inp.value, np.float64 if inp.kind != "input" else None)
        for inp in consumer.inputs
    ]
    up, down = values[slot].copy(), values[slot].copy()
    up[in_index] += h
    down[in_index] -= h
    f = consumer.fn
    hi = np.asarray(f(*values[:slot], up, *values[slot + 1 :], **consumer.consts)[0])
    lo = np.asarray(f(*values[:slot], down, *values[slot + 1 :], **consumer.consts)[0])
    return float((hi[out_index] - lo[out_index]) / (2 * h))


def test_the_terms_add_up_to_the_engines_gradient_for_every_kind_of_op(run):
    step, pos = run.snapshot_steps()[-1], 3
    view = OpView(run, step, pos, op=10_000)
    tape = engine_tape(run, step, view.tokens, pos)
    rng = np.random.default_rng(0)
    seen_ops = set()
    for node in view.trace.nodes:
        if node.grad is None or node.kind == "input" or node.id == view.order[0]:
            continue
        grad = np.asarray(tape.nodes[node.id].grad, np.float64)  # the engine, independently
        nonzero = np.flatnonzero(grad)
        picks = rng.choice(nonzero, size=min(2, len(nonzero)), replace=False)
        for flat in picks:
            context = chain_rule(view, node.id, int(flat))
            made = context["terms"]
            assert made, node.label
            total = sum(t["product"] for t in made)
            assert total == pytest.approx(grad.flat[flat], rel=1e-4, abs=1e-9), node.label
            index = np.unravel_index(flat, grad.shape)
            for t in made[:3]:
                consumer = t["consumer"]
                seen_ops.add(consumer.op)
                slot = [inp.id for inp in consumer.inputs].index(node.id)
                fd = finite_difference(consumer, slot, t["j"], index)
                assert t["local"] == pytest.approx(fd, rel=1e-3, abs=1e-5), consumer.op
                assert t["up"] == pytest.approx(float(tape.nodes[consumer.id].grad[t["j"]]))
    assert {"matmul", "softmax", "rmsnorm", "add", "weighted sum", "embedding lookup",
            "attention scores", "split heads", "merge heads", "relu", "cross-entropy",
            "causal mask"} <= seen_ops


def test_click_a_gradient_entry_and_walk_down_to_the_loss(client, student, run):
    step, pos = run.snapshot_steps()[-1], 2
    view = OpView(run, step, pos, op=10_000)
    client.force_login(student)
    wte = next(n for n in view.trace.nodes if n.name == "wte")
    scalars = reverse("runs:opview_scalars", args=[run.pk, step, pos, wte.id])
    html = client.get(f"{scalars}?op={len(view.order)}").content.decode()
    links = re.findall(r'hx-get="([^"]+/chain/\?op=\d+&(?:amp;)?i=\d+)"', html)
    assert len(links) == run.config["n_embd"]  # one per entry of the token's row
    hops, link = 0, links[0].replace("&amp;", "&")
    while True:  # follow the largest term, one level down each time, until the loss
        html = client.get(link).content.decode()
        assert 'id="op-chain-view"' in html
        if "Backward starts here" in html:
            break
        value = float(re.search(r'data-value="([^"]+)"', html).group(1))
        total = float(re.search(r'data-sum="([^"]+)"', html).group(1))
        assert total == pytest.approx(value, rel=2e-3, abs=1e-7)
        link = re.search(r'class="linkish mono op-chain-down" hx-get="([^"]+)"', html).group(1)
        link, hops = link.replace("&amp;", "&"), hops + 1
        assert hops < 40
    assert hops >= 4  # wte → embedding → … → logits → loss


def test_bad_entries_are_404_and_an_entry_not_reached_says_so(client, student, run):
    step, pos = run.snapshot_steps()[-1], 2
    view = OpView(run, step, pos)
    client.force_login(student)
    base = reverse("runs:opview_chain", args=[run.pk, step, pos, view.order[-1]])
    for query in ("?op=999", "?op=999&i=-1", "?op=999&i=99999999", "?op=999&i=x"):
        assert client.get(base + query).status_code == 404, query
    far = reverse("runs:opview_chain", args=[run.pk, step, pos, 9999])
    assert client.get(far + "?i=0").status_code == 404
    html = client.get(base + "?op=1&i=0").content.decode()
    assert "Backward has not reached" in html
    ids = reverse("runs:opview_chain", args=[run.pk, step, pos, 0])  # the input tokens
    assert "never get a gradient" in client.get(ids + "?op=999&i=0").content.decode()
