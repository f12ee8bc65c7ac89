"""The lenses in a real browser: train a small 2-layer run through the site, follow the run
page's link to the lenses, select a character, switch a head off, scrub and replay the
stored steps (the timeline's line and the embedding map follow), hover the map, and type a
text the model cannot read. Screenshots at desktop and phone widths."""

import re

import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.services]

CONFIG = {
    "n_embd": "16",
    "n_head": "2",
    "n_layer": "2",
    "block_size": "32",
    "num_steps": "120",
    "sample_interval": "120",
}

READING_STEP = "() => document.getElementById('lens-reading').dataset.step"


def test_read_a_run_with_the_lenses(new_page, lab_server):
    lab_server.wait_healthy()
    page = new_page()
    sign_up(page, "ada_lens")
    page.goto("/runs/new/?pack=sql_snippets")
    for name, value in CONFIG.items():
        page.fill(f"#id_{name}", value)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    page.wait_for_function(
        "() => document.getElementById('run-status').dataset.status === 'completed'",
        timeout=90_000,
    )
    page.reload()
    page.get_by_role("link", name=re.compile("Inside the heads")).click()
    page.wait_for_url(re.compile(r"/runs/\d+/lenses/$"))
    page.wait_for_selector("#lens-map-svg .pt")  # the map's fragment came after the page

    # five rungs for two layers; the strip has one button per position of the default text
    legend = page.locator(".lens-legend").inner_text()
    assert legend.count("decided at") == 5 and "layer 1's MLP" in legend
    text = page.locator("#lens-text").input_value()
    chars = page.locator(".lens-char")
    assert chars.count() == len(text) + 1  # BOS first
    # the shares add up to the model's score of the right next character
    assert float(page.locator("#lens-contrib-sum").inner_text()) == pytest.approx(
        float(page.locator("#lens-logit").inner_text()), abs=2e-3
    )
    screenshot(page, "lenses-desktop")

    # select a character: the reading answers for it and the address keeps it
    chars.nth(2).click()
    page.wait_for_function(
        "() => document.querySelectorAll('.lens-char')[2].getAttribute('aria-pressed') === 'true'"
    )
    assert "pos=2" in page.url

    # switch layer 0's head 1 off: losses before and after at every position
    page.get_by_label("head 1").first.check()
    page.wait_for_selector("#lens-loss-after")
    assert "Switched off: h0.1" in page.locator("#lens-reading").inner_text()
    assert page.locator(".lens-loss-col").count() == len(text) + 1
    assert "off=h0.1" in page.url
    page.locator("#ablation-heading").scroll_into_view_if_needed()
    screenshot(page, "lenses-ablation")

    # scrub to the first stored step: the reading, the label and the timeline's line follow
    page.evaluate("""() => { const r = document.getElementById('lens-step-range');
        r.value = 0; r.dispatchEvent(new Event('input', {bubbles: true}));
        r.dispatchEvent(new Event('change', {bubbles: true})); }""")
    page.wait_for_function(f"() => ({READING_STEP})() === '1'")
    assert page.locator("#lens-step-label").inner_text() == "1"
    assert page.locator(".lens-marker").first.get_attribute("x1") == "0"
    assert page.locator("#lens-map-step").inner_text() == "1"
    first = page.locator("#lens-map-svg .pt").first.evaluate("g => g.style.transform")

    # replay walks every stored step to the last; the map moves
    page.locator("#lens-play").click()
    page.wait_for_function("() => document.getElementById('lens-step-label').textContent === '120'",
                           timeout=30_000)
    page.wait_for_function(f"() => ({READING_STEP})() === '120'")
    assert page.locator("#lens-map-svg .pt").first.evaluate("g => g.style.transform") != first
    assert page.locator("#lens-sentences li").count() == 4

    # focus (or hover) a character on the map: its nearest neighbours, highlighted
    page.locator("#lens-map-svg .pt").nth(3).focus()
    assert "closest" in page.locator("#lens-map-info").inner_text()
    assert page.locator("#lens-map-svg .pt.near").count() == 3
    page.locator("#lens-map").scroll_into_view_if_needed()
    screenshot(page, "lenses-map")

    # a character the model never saw: a message in place of the reading, nothing breaks
    page.fill("#lens-text", "Ω")
    page.get_by_role("button", name="Read").click()
    page.wait_for_selector(".lens-error")
    assert "never saw these characters" in page.locator(".lens-error").inner_text()

    # the phone width: the page still reads top to bottom
    phone = new_page(viewport=(390, 844))
    phone.context.add_cookies(page.context.cookies())
    phone.goto(page.url.split("?")[0])
    phone.wait_for_selector("#lens-map-svg .pt")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(phone, "lenses-phone")
