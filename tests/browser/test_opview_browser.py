"""The op view in a real browser: train a small 2-layer run through the site, open
"Inspect every operation" for a token, step through the whole backward pass, and check the
order and the gradient shown on the token embedding against the engine, computed here from
the run's stored parameters."""

import json
import re

import numpy as np
import pytest

from engine import GPT, GPTConfig
from tests.browser.conftest import screenshot, sign_up

pytestmark = [pytest.mark.browser]

CONFIG = {
    "n_embd": "16",
    "n_head": "2",
    "n_layer": "2",
    "block_size": "32",
    "num_steps": "60",
    "sample_interval": "60",
}

STATE = """() => {
    const graph = document.getElementById("op-graph");
    const current = graph.querySelector(".opnode.st-current");
    return {op: Number(graph.dataset.op), current: current ? current.dataset.node : null,
            side: document.getElementById("op-side").dataset.current};
}"""

GRAPH = """() => {
    const nodes = {};
    document.querySelectorAll("#op-graph .opnode").forEach((g) => {
        nodes[g.dataset.node] = {bi: g.dataset.bi === undefined ? null : Number(g.dataset.bi),
                                 label: g.dataset.label, op: g.dataset.opName};
    });
    const edges = [...document.querySelectorAll("#op-graph path.edge")]
        .map((p) => [p.dataset.src, p.dataset.dst]);
    return {nodes, edges, order: document.getElementById("opview").dataset.order.split(" ")};
}"""

# The toolbar's height and where the graph starts: neither may move as the counter grows.
TOOLBAR = """() => ({
    toolbar: document.getElementById("op-controls").getBoundingClientRect().height,
    graph: document.querySelector(".op-layout").getBoundingClientRect().top + window.scrollY,
})"""

# How many pixels of a canvas are coloured (not white, not transparent).
INKED = """(canvas) => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < data.length; i += 4)
        if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) inked++;
    return inked;
}"""

STORED = """
import json
from runs.models import Run
run = Run.objects.get(pk={run_id})
snap = run.snapshot({step})
params = run.params_at({step})
print(json.dumps({{"config": run.config, "vocab_size": run.vocab_size,
    "tokens": [*snap["tokens"], snap["targets"][-1]],
    "params": {{k: v.tolist() for k, v in params.items()}}}}))
"""


def engine_wte_grad_norm(lab_server, run_id, step, pos):
    """Independent of the page: the stored params through a manage shell, the engine here."""
    out = lab_server.manage("shell", "-c", STORED.format(run_id=run_id, step=step))
    stored = json.loads(out.strip().splitlines()[-1])
    c = stored["config"]
    config = GPTConfig(
        stored["vocab_size"], c["n_embd"], c["n_head"], c["n_layer"], c["block_size"]
    )
    model = GPT(config)
    for name, value in stored["params"].items():
        model.params[name][...] = np.asarray(value, np.float32)
    tokens = stored["tokens"]
    _, grads = model.loss_and_grads(tokens[: pos + 2], positions=[pos])
    return float(np.linalg.norm(grads["wte"]))


def train_and_inspect(page, config, pos):
    """Train a run with `config` through the site, pick position `pos` on its page and
    follow "Inspect every operation": (run id, step, the op view's URL)."""
    page.goto("/runs/new/?pack=sql_snippets")
    for name, value in config.items():
        page.fill(f"#id_{name}", value)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    run_id = int(re.search(r"/runs/(\d+)/", page.url).group(1))
    page.wait_for_function(
        "() => document.getElementById('run-status').dataset.status === 'completed'",
        timeout=90_000,
    )
    page.reload()
    # the op view inspects a step's own training line (the page opens on the probe line)
    page.get_by_role("button", name="This step's training line").click()
    page.wait_for_function(
        "() => document.getElementById('run-snapshot-view').dataset.view === 'line'"
    )
    page.locator(f"#tok-{pos}").click()
    page.wait_for_function(
        f"() => document.getElementById('tok-{pos}').getAttribute('aria-pressed') === 'true'"
    )
    page.get_by_role("link", name=re.compile("Inspect every operation")).click()
    page.wait_for_url(re.compile(rf"/steps/\d+/tokens/{pos}/ops/$"))
    return run_id, int(re.search(r"/steps/(\d+)/", page.url).group(1)), page.url


def test_step_through_a_tokens_backward_pass(page, lab_server):
    lab_server.wait_healthy()
    sign_up(page, "grace_ops")
    # from the token strip: pick position 4 and follow "Inspect every operation"
    run_id, step, ops_url = train_and_inspect(page, CONFIG, 4)

    # before backward: no gradients, and the page says why
    assert "a graph drawn before backward has none" in page.locator("#op-side").inner_text()
    assert page.evaluate(STATE)["current"] is None
    assert page.locator("#op-graph .opnode .gn:visible").count() == 0
    value_maps = page.locator("#op-graph canvas.hm:not(.grad)")
    assert value_maps.count() > 30
    assert value_maps.nth(5).evaluate(INKED) > 0
    screenshot(page, "opview-before-backward")

    # hover a heatmap: its numbers
    box = value_maps.nth(3).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.9)
    assert "≈" in page.locator("#op-tip").inner_text()
    screenshot(page, "opview-hover")

    graph = page.evaluate(GRAPH)
    order = graph["order"]
    total = len(order)
    assert total > 40  # two layers of ops

    # step through the whole backward pass with the Step button: the address follows the
    # op but is replaced, so the history does not grow; the toolbar keeps its height
    history = page.evaluate("history.length")
    toolbar = page.evaluate(TOOLBAR)
    seen = []
    for k in range(1, total + 1):
        page.locator("#op-step").click()
        page.wait_for_function(f"() => ({STATE})().op === {k}")
        state = page.evaluate(STATE)
        if k >= 10:  # two digits: the same toolbar as at op 0
            assert page.evaluate(TOOLBAR) == toolbar, k
        assert state["current"] == state["side"]
        seen.append(state["current"])
        assert page.url.endswith(f"?op={k}")
        label = graph["nodes"][state["current"]]["label"]
        if graph["nodes"][state["current"]]["op"] == "softmax" and "softmax" not in str(seen[:-1]):
            assert "dx = y ⊙ (dy − Σ" in page.locator("#op-formula").inner_text()
            screenshot(page, "opview-softmax")
        if label == "wte":
            wte_side = float(page.locator("#op-upstream-norm").inner_text())
            screenshot(page, "opview-at-wte")
    assert page.locator("#op-step").is_disabled()
    assert page.evaluate("history.length") == history

    # the highlighted order is the backward order, and it is reverse topological:
    # every op is visited before each of its inputs
    assert seen == order
    bi = {node: graph["nodes"][node]["bi"] for node in seen}
    assert [bi[n] for n in seen] == list(range(total))
    for src, dst in graph["edges"]:
        if src in bi:
            assert bi[dst] < bi[src], (graph["nodes"][dst]["label"], graph["nodes"][src]["label"])

    # the gradient norm shown on the token embedding (wte) equals the engine's
    expected = engine_wte_grad_norm(lab_server, run_id, step, 4)
    wte = next(n for n, info in graph["nodes"].items() if info["label"] == "wte")
    shown = page.locator(f"#opnode-{wte}").get_attribute("data-grad-norm")
    assert float(shown) == pytest.approx(expected, rel=5e-4)
    assert page.locator(f"#opnode-{wte} .gn").text_content().startswith("∇ ±")
    assert wte_side == pytest.approx(expected, rel=5e-4)
    row = page.locator('#op-weights tr[data-weight="wte"] .token-norm').inner_text()
    assert float(row) == pytest.approx(expected, rel=5e-4)
    page.locator("#op-weights").scroll_into_view_if_needed()
    screenshot(page, "opview-backward-done")

    # a weight's gradient heatmap
    page.locator('#op-weights tr[data-weight="layer1.mlp_fc1"] button').click()
    page.wait_for_selector("#op-weight-map canvas.hm")
    assert page.locator("#op-weight-map canvas.hm").first.evaluate(INKED) > 0
    screenshot(page, "opview-weight-gradient")

    # Back undoes one op; a click on a node jumps there; Reset clears
    page.locator("#op-back").click()
    page.wait_for_function(f"() => ({STATE})().op === {total - 1}")
    weights_node = next(
        n for n, info in graph["nodes"].items() if info["label"] == "layer 1 · attention weights"
    )
    page.locator(f"#opnode-{weights_node}").click()
    k = graph["nodes"][weights_node]["bi"] + 1
    page.wait_for_function(f"() => ({STATE})().op === {k}")
    assert page.url.endswith(f"?op={k}")
    assert page.evaluate(STATE)["current"] == weights_node

    # expand it to scalars: the attention row and the dot products that made the scores
    page.get_by_role("button", name="expand to scalars").click()
    page.wait_for_selector("#op-scalars-view .op-keys-table")
    assert "q·k" in page.locator("#op-scalars-view").inner_text()
    assert page.locator("#op-scalars-view .op-keys-table tbody tr").count() == 5  # keys 0..4
    screenshot(page, "opview-scalars")

    # the side panel shows head 0 of an attention op; pick head 1 from the keyboard
    side = page.locator("#op-side")
    assert "(the token's row, head 0)" in side.inner_text()
    head0_numbers = page.locator("#op-side .op-numbers").inner_text()
    page.locator('#op-side .op-head-pick button[data-head="1"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_selector('#op-side .op-head-pick button[data-head="1"][aria-pressed="true"]')
    assert page.url.endswith(f"?op={k}&head=1")
    assert page.evaluate(STATE)["current"] == weights_node  # the same op, another head
    assert "(the token's row, head 1)" in side.inner_text()
    assert "upstream gradient dy, head 1" in side.inner_text()
    assert page.locator("#op-side .op-numbers").inner_text() != head0_numbers
    assert page.evaluate("() => document.activeElement.dataset.head") == "1"  # focus kept
    assert page.locator("#op-side canvas.hm").first.evaluate(INKED) > 0
    screenshot(page, "opview-head-1")
    # Step (→) and a click on a node keep the head
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => ({STATE})().op === {k + 1}")
    assert page.url.endswith(f"?op={k + 1}&head=1")
    assert "(the token's row, head 1)" in side.inner_text()
    page.locator(f"#opnode-{weights_node}").click()
    page.wait_for_function(f"() => ({STATE})().op === {k}")
    assert page.url.endswith(f"?op={k}&head=1")
    assert "upstream gradient dy, head 1" in side.inner_text()

    page.keyboard.press("r")
    page.wait_for_function(f"() => ({STATE})().op === 0")
    assert page.url.endswith("?op=0")
    assert "has none" in page.locator("#op-side").inner_text()

    # Play at top speed walks on by itself; pause stops it
    page.fill("#op-speed", "10")
    page.locator("#op-play").click()
    page.wait_for_function(f"() => ({STATE})().op >= 11")
    assert page.locator("#op-play").inner_text() == "❚❚ Pause"
    assert page.evaluate(TOOLBAR)["toolbar"] == toolbar["toolbar"]  # Pause is as wide as Play
    page.locator("#op-play").click()
    stopped = page.evaluate(STATE)["op"]
    page.wait_for_timeout(600)
    assert page.evaluate(STATE)["op"] <= stopped + 1
    # Back, the node clicks, the head picker, Reset and Play added no history either
    assert page.evaluate("history.length") == history

    # the state lives in the address: a fresh load of it shows the same op
    page.goto(f"{ops_url}?op={k}")
    assert page.evaluate(STATE)["current"] == weights_node

    # zoom (button or + / −) never below 100 %, where the graph's text is 11 px or more;
    # a reload keeps the level
    natural = float(page.locator("#op-graph").get_attribute("width"))
    assert page.locator("#op-zoom-out").is_disabled()
    page.keyboard.press("+")
    assert page.locator("#op-zoom-level").inner_text() == "125%"
    zoomed = float(page.locator("#op-graph").get_attribute("width"))
    assert zoomed == pytest.approx(natural * 1.25, abs=1)
    page.reload()
    assert page.locator("#op-zoom-level").inner_text() == "125%"
    page.locator("#op-zoom-out").click()
    assert float(page.locator("#op-graph").get_attribute("width")) == pytest.approx(natural, abs=1)
