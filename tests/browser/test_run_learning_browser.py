"""How a run teaches how it learns, in a real browser: the page opens on one probe line,
the scrubber moves that same line through training and its prediction grows confident,
Replay training plays the run back (pausable), and a diverged run says so with what to try."""

import re

import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.services]

SELECTED = """() => {
    const pressed = document.querySelector('#run-tokens .token[aria-pressed="true"]');
    const strip = [...document.querySelectorAll('#run-tokens .token-in')].map(e => e.textContent);
    const bar = document.querySelector('.bars li.target .bar-value');
    return {
        pos: Number(document.getElementById('run-tokens').dataset.pos),
        strip: strip.join(''),
        target: bar ? parseFloat(bar.textContent) : null,
        step: document.getElementById('run-snapshot-view').dataset.step,
        view: document.getElementById('run-snapshot-view').dataset.view,
        pressed: pressed ? pressed.id : null,
    };
}"""


def start_run(page, pack, **config):
    page.goto(f"/runs/new/?pack={pack}")
    for name, value in config.items():
        page.fill(f"#id_{name}", str(value))
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    page.wait_for_function(
        "() => document.getElementById('run-status').dataset.active === 'false'", timeout=90_000
    )
    page.reload()


def test_one_probe_line_improves_replay_plays_and_a_diverged_run_is_labelled(page, new_page,
                                                                             lab_server):
    lab_server.wait_healthy()
    sign_up(page, "hopper_probe")

    # the form warns before submitting when the block size cuts lines
    page.goto("/runs/new/?pack=arithmetic")
    page.fill("#id_block_size", "4")
    warning = page.locator("#block-warning")
    assert warning.is_visible()
    assert re.search(r"Block size 4 cuts \d+ of \d+ lines", warning.inner_text())
    screenshot(page, "new-run-block-warning")
    page.fill("#id_block_size", "16")
    assert not warning.is_visible()

    start_run(page, "arithmetic")  # the recommended run: 300 steps
    run_url = page.url
    newest = page.evaluate(SELECTED)
    # the pack's probe line, opened on the position after "=" (it predicts the carry, "1")
    assert newest["view"] == "probe" and newest["pos"] == 4, newest
    assert newest["strip"].endswith("8+6=14"), newest
    assert "a line the pack chose, not in its text" in page.locator(".view-switch").inner_text()
    assert "Probe line" in page.locator(".view-switch").inner_text()
    assert page.locator("#loss-canvas").get_attribute("data-points") == "300"
    assert "validation" in page.locator("#run-learning").inner_text()
    screenshot(page, "run-probe-newest")

    # scrub to step 1: the same text, with the selected prediction far less confident
    page.focus("#scrub-range")
    page.keyboard.press("Home")
    page.wait_for_function(f"() => ({SELECTED})().step === '1'")
    first = page.evaluate(SELECTED)
    assert first["strip"] == newest["strip"] and first["pos"] == newest["pos"]
    assert first["target"] < newest["target"], (first, newest)
    screenshot(page, "run-probe-step-1")

    # the step's own training line is one click away, and back
    page.get_by_role("button", name="This step's training line").click()
    page.wait_for_function(f"() => ({SELECTED})().view === 'line'")
    assert "inspect every operation" in page.locator("#run-tokens").inner_text().lower()
    page.get_by_role("button", name="Probe line").click()
    page.wait_for_function(f"() => ({SELECTED})().view === 'probe'")

    # replay: plays, pauses, resumes, ends at the last step with the curves whole again
    page.select_option(".replay-speed", "10")
    page.get_by_role("button", name="▶ Replay training").click()
    page.wait_for_function(f"() => Number(({SELECTED})().step) > 100")
    page.get_by_role("button", name="❚❚ Pause").click()
    page.wait_for_timeout(500)  # the step asked for last arrives
    paused = page.locator(".replay-state").inner_text()
    held = page.evaluate(SELECTED)["step"]
    assert paused == f"Paused at step {held}."
    page.wait_for_timeout(600)
    assert page.evaluate(SELECTED)["step"] == held
    screenshot(page, "run-replay-paused")
    page.get_by_role("button", name="▶ Replay training").click()
    page.wait_for_function(  # about 10 s, longer when the server is slow to answer
        "() => document.querySelector('.replay-state').textContent.startsWith('Replay done')",
        timeout=90_000,
    )
    page.wait_for_function(f"() => ({SELECTED})().step === '300'")

    # a learning rate of 1.0 blows up: never a plain green "Completed"
    start_run(page, "arithmetic", num_steps=300, learning_rate=1.0)
    status = page.locator("#run-status .status").text_content()  # (CSS capitalises it)
    assert status == "Completed · diverged", status
    finding = page.locator(".finding-diverged")
    assert "What to try" in finding.inner_text()
    href = finding.get_by_role("link", name="New run with this change").get_attribute("href")
    assert "learning_rate=0.1" in href
    screenshot(page, "run-diverged")
    page.goto("/runs/")
    assert "diverged" in page.locator("table.run-list").inner_text().lower()
    screenshot(page, "run-list-diagnostics")

    # the link opens the form with the change made; the pages at phone and projector widths
    phone = new_page(viewport=(390, 844))
    phone.context.add_cookies(page.context.cookies())
    phone.goto(href)
    assert phone.locator("#id_learning_rate").input_value() == "0.1"
    phone.goto(run_url)
    screenshot(phone, "run-probe-phone")
    projector = new_page(viewport=(1920, 1080))
    projector.context.add_cookies(page.context.cookies())
    projector.goto(run_url)
    screenshot(projector, "run-probe-projector")
