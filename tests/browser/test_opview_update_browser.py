"""The op view read as a student would, at desktop (1366), projector (1920) and phone (390)
widths, on the largest model (2 layers, 8 heads): the toolbar never covers the panels, the
current op is always in view, zoom keeps every label at 11 px or more with a minimap, the
update after the last backward step, and the chain rule walked on one number."""

import re

import pytest

from tests.browser.conftest import screenshot, screenshot_folder, sign_up
from tests.browser.test_opview_browser import train_and_inspect

pytestmark = [pytest.mark.browser]

CONFIG = {
    "n_embd": "16",
    "n_head": "8",
    "n_layer": "2",
    "block_size": "32",
    "num_steps": "40",
    "sample_interval": "40",
}

# Bounding boxes in the viewport: the toolbar, the side column, the graph's scroll box, the
# current node; and the smallest rendered text in the graph.
BOXES = """() => {
    const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
    const state = document.getElementById("op-state");
    const current = state.dataset.current;
    const node = current && document.getElementById("opnode-" + current);
    const svg = document.getElementById("op-graph");
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    let smallest = 1e9;
    svg.querySelectorAll(".opnode text").forEach((t) => {
        smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize) * scale);
    });
    const byId = (id) => box(document.getElementById(id));
    const bySel = (sel) => box(document.querySelector(sel));
    return {bar: byId("op-controls"), aside: bySel(".op-aside"), side: byId("op-side"),
            wrap: bySel(".op-graph-wrap"), graph: bySel(".op-graph-panel"), node: box(node),
            vw: window.innerWidth, vh: window.innerHeight, smallest: smallest,
            op: Number(document.getElementById("op-graph").dataset.op)};
}"""


def overlaps(a, b):
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


def inside(inner, outer, slack=1):
    return (
        inner["top"] >= outer["top"] - slack
        and inner["bottom"] <= outer["bottom"] + slack
        and inner["left"] >= outer["left"] - slack
        and inner["right"] <= outer["right"] + slack
    )


def check_layout(page, where):
    """The toolbar intersects neither panel, the current node is inside the graph's box and
    the viewport, and no text in the graph renders under 11 px."""
    b = page.evaluate(BOXES)
    assert not overlaps(b["bar"], b["aside"]), where
    assert not overlaps(b["bar"], b["graph"]), where
    # both scroll boxes start below the bar: what scrolls inside them never passes under it
    assert b["aside"]["top"] >= b["bar"]["bottom"] - 1, where
    assert b["graph"]["top"] >= b["bar"]["bottom"] - 1, where
    assert b["smallest"] >= 11 - 0.01, (where, b["smallest"])
    if b["node"]:
        viewport = {"top": 0, "left": 0, "bottom": b["vh"], "right": b["vw"]}
        assert inside(b["node"], b["wrap"]) and inside(b["node"], viewport), (where, b)
    return b


def wait_op(page, k):
    page.wait_for_function(f"() => Number(document.getElementById('op-graph').dataset.op) === {k}")
    page.wait_for_timeout(150)


def test_update_chain_rule_and_a_readable_graph_at_three_widths(new_page, lab_server):
    lab_server.wait_healthy()
    page = new_page((1366, 768))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, "ada_ops")
    _, _, ops_url = train_and_inspect(page, CONFIG, 6)
    total = int(page.locator("#opview").get_attribute("data-total"))

    # desktop: step through the first ops; the current node is always in view and the
    # toolbar is a row of its own, above both panels, whatever the page's scroll
    check_layout(page, "1366 op 0")
    for k in range(1, 13):
        page.keyboard.press("ArrowRight")
        wait_op(page, k)
        check_layout(page, f"1366 op {k}")
    aside = page.locator(".op-aside").bounding_box()
    page.mouse.move(aside["x"] + 40, aside["y"] + 40)
    page.mouse.wheel(0, 600)  # the side panel scrolls in its box
    page.evaluate("window.scrollBy(0, 400)")  # and the page
    page.wait_for_timeout(300)
    check_layout(page, "1366 scrolled")
    screenshot(page, "opview-1366-stepping")

    # zoom: 100 % is the smallest (labels 11 px or more); zooming in keeps the node in view
    assert page.locator("#op-zoom-out").is_disabled()
    assert page.locator("#op-zoom-level").inner_text() == "100%"
    page.keyboard.press("+")
    page.keyboard.press("+")
    page.wait_for_timeout(400)
    assert page.locator("#op-zoom-level").inner_text() == "150%"
    b = check_layout(page, "1366 zoom 150%")
    assert b["smallest"] >= 16
    frame = page.locator("#op-minimap .mm-view")
    assert float(frame.get_attribute("width")) > 0
    assert page.locator("#op-minimap .mm-node.st-current").count() == 1
    assert page.locator("#op-minimap .mm-node.st-done").count() == 11
    screenshot(page, "opview-1366-zoom-minimap")
    page.keyboard.press("-")
    page.keyboard.press("-")

    assert not errors
    # a node far from the current one: jump there; it comes into view
    order = page.locator("#opview").get_attribute("data-order").split(" ")
    page.goto(f"{ops_url}?op={total - 1}")
    wait_op(page, total - 1)
    check_layout(page, "1366 near the end")

    # the end of backward: → once more applies the update
    page.keyboard.press("ArrowRight")
    wait_op(page, total)
    assert "Backward is done" in page.locator("#op-side").inner_text()
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#op-update-view", timeout=30_000)
    update = page.locator("#op-update-view").inner_text()
    assert re.search(r"p\(“.+”\) (rose|fell) from \d", update), update
    assert "This token alone" in update and "The whole step" in update
    p_before = float(page.locator("#op-p-before").inner_text())
    p_after = float(page.locator("#op-p-after").inner_text())
    assert 0 < p_before < 1 and 0 < p_after < 1 and p_before != p_after
    assert page.locator(".op-update-weight").count() >= 10
    assert "m̂" in page.locator(".op-update-weight").first.inner_text()
    check_layout(page, "1366 update")
    screenshot(page, "opview-1366-update")

    # the chain rule on one number: the loss's gradient → wte's, expanded to scalars
    wte = next(
        n for n in order if page.locator(f"#opnode-{n}").get_attribute("data-label") == "wte"
    )
    page.goto(f"{ops_url}?op={order.index(wte) + 1}")
    wait_op(page, order.index(wte) + 1)
    page.get_by_role("button", name="expand to scalars").click()
    page.locator(".op-chain-link").first.click()
    page.wait_for_selector("#op-chain-view")
    chain = page.locator("#op-chain-view")
    hops = 0
    while "Backward starts here" not in chain.inner_text():
        value = float(chain.get_attribute("data-value"))
        total_of_terms = float(chain.get_attribute("data-sum"))
        assert total_of_terms == pytest.approx(value, rel=2e-3, abs=1e-7)
        if hops == 1:
            check_layout(page, "1366 chain")
            screenshot(page, "opview-1366-chain")
        before = chain.get_attribute("data-node")
        page.locator(".op-chain-down").first.click()
        page.wait_for_function(
            "(before) => (document.getElementById('op-chain-view').dataset.node || 'loss')"
            " !== before",
            arg=before,
        )
        hops += 1
        assert hops < 40
    assert hops >= 4

    # projector and a small laptop: the same checks at 1920 × 1080 and 1280 × 720
    for width, height in ((1920, 1080), (1280, 720)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{ops_url}?op=20")
        wait_op(page, 20)
        check_layout(page, f"{width} op 20")
        for k in range(21, 26):
            page.keyboard.press("ArrowRight")
            wait_op(page, k)
            check_layout(page, f"{width} op {k}")
        screenshot(page, f"opview-{width}")

    # the smallest model (1 layer, 1 head) lays out as steadily
    page.set_viewport_size({"width": 1366, "height": 768})
    _, _, small_url = train_and_inspect(page, {**CONFIG, "n_head": "1", "n_layer": "1"}, 6)
    small_total = int(page.locator("#opview").get_attribute("data-total"))
    for width, height in ((1280, 720), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        for k in (1, small_total // 2, small_total):
            page.goto(f"{small_url}?op={k}")
            wait_op(page, k)
            check_layout(page, f"1 layer 1 head, {width} op {k}")
    screenshot(page, "opview-1-layer-1-head")

    # phone: one column, the side panel first, in words
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{ops_url}?op=5")
    b = page.evaluate(BOXES)
    assert b["aside"]["bottom"] <= b["graph"]["top"] + 1
    assert b["side"]["right"] <= 390 + 1
    assert page.locator("#op-words").inner_text()
    screenshot(page, "opview-390")
    page.screenshot(path=str(screenshot_folder() / "opview-390-screen.png"))  # the phone's view
    bar = page.locator("#op-controls").bounding_box()
    assert bar["x"] >= 0 and bar["x"] + bar["width"] <= 390 + 1
