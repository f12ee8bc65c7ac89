"""The live run page in a real browser against a real lab (daphne; in the production pass a
Celery worker process and Redis): start a run through the new-run form, watch it learn
over the websocket, scrub back to an early snapshot while it trains, see it complete."""

import re

import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.services]

# The largest model the lab allows on long documents, for a few hundred steps: a run that
# lasts seconds, long enough to watch it learn and to scrub back while it trains.
CONFIG = {
    "n_embd": "64",
    "n_head": "8",
    "n_layer": "2",
    "block_size": "64",
    "num_steps": "600",
    "sample_count": "5",
    "sample_interval": "200",
}
NUM_STEPS = 600

STATE = """() => ({
    status: document.getElementById("run-status").dataset.status,
    step: Number(document.getElementById("run-current-step").textContent),
    points: Number(document.getElementById("loss-canvas").dataset.points || 0),
    snapshots: Number(document.getElementById("scrub-range")?.max ?? -1) + 1,
    shownStep: document.getElementById("run-snapshot-view").dataset.step,
    following: document.getElementById("run-snapshot-view").dataset.following,
})"""

# How many pixels of a canvas are the heatmap's blue (not white, not the masked grey).
BLUE_PIXELS = """(canvas) => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let blue = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 2] - data[i] > 40) blue++;
    return blue;
}"""


def test_watch_a_run_learn_scrub_back_and_see_it_complete(page, new_page, lab_server):
    lab_server.wait_healthy()
    sign_up(page, "lovelace")
    page.goto("/runs/new/?pack=sql_snippets")
    for name, value in CONFIG.items():
        page.fill(f"#id_{name}", value)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    run_url = page.url

    # live: the step counter and the loss curve advance while the run is running
    page.wait_for_function(f"() => ({STATE})().status === 'running' && ({STATE})().points > 0")
    early = page.evaluate(STATE)
    page.wait_for_function(
        f"() => ({STATE})().points > {early['points']} && ({STATE})().step > {early['step']}"
    )
    assert page.evaluate(STATE)["points"] > early["points"]

    # a snapshot beyond the first: the heatmaps draw, the token strip fills
    page.wait_for_function(f"() => ({STATE})().snapshots >= 2", timeout=60_000)  # a loaded CI box
    thumbs = page.locator(".head-thumb canvas.heatmap")
    assert thumbs.count() == 16  # 2 layers x 8 heads
    assert thumbs.first.evaluate(BLUE_PIXELS) > 0
    assert page.locator("canvas.heatmap-focus").evaluate(BLUE_PIXELS) > 0
    assert page.get_by_text("Row: the position that looks").is_visible()  # the whole help
    assert not page.locator(".attention-key-short").is_visible()  # (the projector's short one)
    assert page.locator(".token-strip .token").count() > 1
    screenshot(page, "run-live-training")

    # between snapshots a push moves the probe line on and leaves the maps on the page as
    # they are (the push does not carry them): the same element, still drawn
    shown, grid = page.evaluate(f"""() => {{
        const grid = document.querySelector(".attention-grid");
        grid._seen = true;
        return [({STATE})().shownStep, grid.id];
    }}""")
    page.wait_for_function(f"() => ({STATE})().shownStep !== '{shown}'", timeout=60_000)
    now_grid, same_node = page.evaluate(
        """() => {
            const grid = document.querySelector(".attention-grid");
            return [grid.id, !!grid._seen];
        }"""
    )
    # the same maps stay the same element; a new snapshot's come as a new one
    assert same_node == (now_grid == grid)
    assert thumbs.first.evaluate(BLUE_PIXELS) > 0 and thumbs.count() == 16

    # scrub back to the first snapshot with the keyboard; live pushes leave it there
    page.focus("#scrub-range")
    page.keyboard.press("Home")
    page.wait_for_function(
        f"() => ({STATE})().shownStep === '1' && ({STATE})().following === 'false'"
    )
    assert "?step=1" in page.url
    pinned = page.evaluate(STATE)
    assert "Pinned to step" in page.locator("#run-snapshot-view").inner_text()
    page.locator("#tok-3").click()
    page.wait_for_function(
        "() => document.getElementById('tok-3')?.getAttribute('aria-pressed') === 'true'"
    )
    assert "pos=3" in page.url
    assert page.locator(".bars li.target").count() == 1
    focus = page.locator("canvas.heatmap-focus")
    box = focus.bounding_box()
    focus.hover(position={"x": box["width"] * 0.6, "y": box["height"] * 0.9})  # a lower cell
    assert "%" in page.locator(".heatmap-tip").inner_text()
    # and from the keyboard: the arrow keys walk the cells and read each one out
    focus.focus()
    for key in ("ArrowDown", "ArrowDown", "ArrowRight"):
        page.keyboard.press(key)
    readout = page.locator(".attention-cell-readout").inner_text()
    assert re.fullmatch(r".+ \(2\) → .+ \(1\): \d+%", readout), readout
    screenshot(page, "run-live-scrubbed")
    if pinned["status"] == "running" and pinned["step"] < NUM_STEPS:  # (unless nearly done)
        page.wait_for_function(  # pushes go on: the counter moves, or the run ends
            f"() => ({STATE})().step > {pinned['step']} || ({STATE})().status !== 'running'",
            timeout=60_000,
        )
        assert page.evaluate(STATE)["shownStep"] == "1"

    # the run completes; the pinned panels stayed on step 1 through every push
    page.wait_for_function(f"() => ({STATE})().status === 'completed'", timeout=90_000)
    done = page.evaluate(STATE)
    assert done["step"] == NUM_STEPS and done["points"] == NUM_STEPS
    assert done["shownStep"] == "1" and done["following"] == "false"
    assert page.locator("#tok-3").get_attribute("aria-pressed") == "true"

    # back to the last step, keeping the selected position
    page.locator("#run-snapshot-view button.follow-live").click()  # "Follow live"
    page.wait_for_function(f"() => ({STATE})().shownStep === '{NUM_STEPS}'")
    assert page.locator("#tok-3").get_attribute("aria-pressed") == "true"
    assert page.url.endswith("?pos=3")
    # samples: three batches of five arrived over the socket, newest on top, none twice
    samples = page.locator("#run-samples-list li")
    assert samples.count() == 15
    assert "step 600" in samples.first.inner_text() and "step 200" in samples.last.inner_text()
    assert re.search(r"\d+ of 5 follow the template", page.locator("#run-samples").inner_text())
    screenshot(page, "run-complete")

    # a finished run stays fully explorable without the socket, also on a projector
    projector = new_page(viewport=(1920, 1080))
    projector.context.add_cookies(page.context.cookies())
    projector.goto(run_url)
    assert projector.locator("[ws-connect]").count() == 0
    projector.wait_for_function(f"() => ({STATE})().points === {NUM_STEPS}")
    assert projector.locator(".head-thumb canvas.heatmap").last.evaluate(BLUE_PIXELS) > 0
    # the evaluation points the live page gathered push by push are those a fresh load has
    points = "() => [LabData.evals().step, LabData.evals().val_loss, LabData.heatmap().steps]"
    grown, fresh = page.evaluate(points), projector.evaluate(points)
    assert len(fresh[0]) > 10 and grown == fresh
    assert page.evaluate("() => LabData.heatmap().losses") == projector.evaluate(
        "() => LabData.heatmap().losses"
    )
    screenshot(projector, "run-complete-projector")
