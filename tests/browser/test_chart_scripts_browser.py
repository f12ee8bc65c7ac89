"""The canvas scripts (static/js/attention-heatmap.js, line-chart.js) on their own in Chromium,
for what a whole page rarely reaches: a heatmap drawn while it is hidden (the projector's
loss view hides the attention cell; pressing H there selects a head) froze the page in a
loop that never ended, and a chart's ticks are counted against arithmetic done here."""

import base64
import json
import math
from pathlib import Path

import pytest

# a frozen page fails here in a minute, not at the suite's ten
pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

STATIC = Path(__file__).resolve().parents[2] / "static" / "js"
CHARS = ["a", "b", "c", "d", "e", "f"]

# a 6-position head: row r attends to columns 0..r (bytes 0..255, base64 in the page)
ATTENTION = """
<style>canvas.heatmap {{ display: block; aspect-ratio: 1; }}</style>
<div class="attention" data-chars='{chars}' style="{style}">
  <button class="head-thumb" aria-pressed="true" data-layer="0" data-head="0">
    <canvas class="heatmap" data-size="6" data-attn="{attn}" style="width: 60px"></canvas>
  </button>
  <button class="head-thumb" aria-pressed="false" data-layer="0" data-head="1">
    <canvas class="heatmap" data-size="6" data-attn="{attn}" style="width: 60px"></canvas>
  </button>
  <canvas class="heatmap heatmap-focus" tabindex="0" data-size="6" style="width: 400px"></canvas>
</div>
"""


def open_scripts(browser, body, scripts):
    page = browser.new_page(viewport={"width": 800, "height": 600})
    page.set_default_timeout(5_000)
    page.set_content(f"<!doctype html><html><body>{body}</body></html>")
    for name in scripts:
        page.add_script_tag(path=str(STATIC / name))
    return page


def frames_pass(page):
    """Two animation frames go by (the scripts draw in one); a frozen page never gets there."""
    page.evaluate(
        "window.__frames = false; requestAnimationFrame(() => requestAnimationFrame("
        "() => { window.__frames = true; }))"
    )
    page.wait_for_function("window.__frames === true")


def attention_page(browser, hidden):
    weights = bytes(255 // (row + 1) for row in range(6) for _ in range(row + 1))
    body = ATTENTION.format(
        chars=json.dumps(CHARS),
        attn=base64.b64encode(weights).decode(),
        style="display: none" if hidden else "",
    )
    return open_scripts(browser, body, ["lab-data.js", "attention-heatmap.js"])


def test_a_hidden_heatmap_waits_to_be_shown_and_the_page_stays_alive(browser):
    page = attention_page(browser, hidden=True)
    try:
        frames_pass(page)  # drawn while hidden: the page answers
        focus = page.locator(".heatmap-focus")
        assert focus.get_attribute("data-drawn") is None  # nothing drawn at no size
        # selecting a head while hidden (H on the projector's loss view) draws at once
        page.evaluate("document.querySelectorAll('.head-thumb')[1].click()")
        frames_pass(page)
        assert focus.get_attribute("data-drawn") is None
        # shown again (the projector's V sends a resize): drawn at its size
        page.evaluate(
            "document.querySelector('.attention').style.display = '';"
            "window.dispatchEvent(new Event('resize'))"
        )
        page.wait_for_function("document.querySelector('.heatmap-focus').dataset.drawn === '6'")
        pixels = page.evaluate(
            """() => { const c = document.querySelector('.heatmap-focus');
                       const alpha = c.getContext('2d').getImageData(c.width - 5, 25, 1, 1).data[3];
                       return [c.width, alpha]; }"""
        )
        assert pixels[0] == 400  # the backing store follows the CSS width (ratio 1)
        assert pixels[1] > 0  # the masked future (top right) is painted
    finally:
        page.close()


def test_a_shown_heatmap_reads_its_cells(browser):
    page = attention_page(browser, hidden=False)
    try:
        page.wait_for_function("document.querySelector('.heatmap-focus').dataset.drawn === '6'")
        page.focus(".heatmap-focus")
        for _ in range(3):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowRight")
        tip = page.locator(".heatmap-tip").inner_text()
        # row 3 spreads over 4 columns: 255 // 4 = 63 of 255 each
        assert tip == f"d (3) → b (1): {round(100 * (255 // 4) / 255)}%"
    finally:
        page.close()


def expected_ticks(lo, hi, count):
    """Round values 1, 2, 2.5 or 5 × 10^k apart covering [lo, hi], at most `count` steps."""
    span = hi - lo or 1
    power = 10 ** math.floor(math.log10(span / count))
    step = next((m * power for m in (1, 2, 2.5, 5, 10) if span / (m * power) <= count), 10 * power)
    first = math.ceil(lo / step)
    return [k * step for k in range(first, math.floor(hi / step + 1e-9) + 1)]


@pytest.mark.parametrize(
    "lo, hi, count",
    [(0, 600, 5), (0, 4.2, 5), (0, 1, 2), (0.37, 2.91, 5), (0, 60_000, 7), (1e17, 1e17 + 1, 5)],
)
def test_chart_ticks_are_round_and_bounded(browser, lo, hi, count):
    page = open_scripts(browser, "", ["line-chart.js"])
    try:
        ticks = page.evaluate("([lo, hi, n]) => LabChart.niceTicks(lo, hi, n)", [lo, hi, count])
        if hi - lo < 1e-6 * hi:
            # a span far below the values' precision: a few ticks at most, never a hung page
            assert len(ticks) <= 2 * count + 3
        else:
            assert ticks == pytest.approx(expected_ticks(lo, hi, count))
            assert lo <= ticks[0] and ticks[-1] <= hi + 1e-9
    finally:
        page.close()
