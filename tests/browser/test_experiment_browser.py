"""The experiment loop in Chromium: the new-run form's pack menu typed at human speed, a run
forked at a step (the child's page names its parent and the change), run again with changes,
and the runs compared on a log scale, from the run page and from My runs' ticks."""

import re

import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.services]

SMALL = {"n_embd": "8", "n_head": "2", "n_layer": "1", "block_size": "16", "num_steps": "60",
         "sample_interval": "30", "sample_count": "2"}


def start_small_run(page, **changes):
    page.goto("/runs/new/?pack=arithmetic")
    for name, value in {**SMALL, **changes}.items():
        page.fill(f"#id_{name}", value)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    page.locator('#run-status[data-status="completed"]').wait_for(timeout=60_000)
    return int(re.search(r"/runs/(\d+)/$", page.url).group(1))


def test_the_pack_menu_types_like_a_native_menu_and_keeps_edits(page, lab_server):
    lab_server.wait_healthy()
    sign_up(page, "menu-typist")
    page.goto("/runs/new/?pack=regex")
    assert page.input_value("#id_block_size") == "32"
    page.fill("#id_learning_rate", "0.02")  # an edit of a setting no pack dictates
    page.fill("#id_n_layer", "2")
    # typed at human speed into the closed menu: "Arith" must land on Arithmetic
    page.focus("#id_pack")
    page.keyboard.type("Arith", delay=150)
    page.locator("#pack-changed").wait_for()
    assert page.input_value("#id_pack") == "arithmetic"
    page.wait_for_load_state("networkidle")
    assert page.input_value("#id_pack") == "arithmetic"  # no reload took the menu elsewhere
    assert page.evaluate("document.activeElement.id") == "id_pack"  # still typing there
    changed = page.locator("#pack-changed").inner_text()
    assert "block size 32 → 16" in changed and "training steps 800 → 1500" in changed
    assert "Your other settings are kept." in changed
    assert page.input_value("#id_learning_rate") == "0.02"
    assert page.input_value("#id_n_layer") == "2"
    assert page.input_value("#id_block_size") == "16"
    # each setting says what it is, and links the glossary
    explain = page.locator("#id_learning_rate_explain")
    assert "How big each update is" in explain.inner_text()
    screenshot(page, "experiment-form-pack-changed")
    # the arrow keys move through the menu one text at a time, as a native select does
    page.keyboard.press("ArrowUp")
    page.locator("#pack-changed", has_text="Arithmetic").wait_for(state="detached")
    assert page.input_value("#id_pack") != "arithmetic"
    assert page.input_value("#id_learning_rate") == "0.02"
    explain.locator("a").click()
    page.wait_for_url(re.compile(r"/runs/glossary/#setting-learning_rate$"))
    assert page.locator("#setting-learning_rate").is_visible()
    screenshot(page, "experiment-glossary")
    phone = page.context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto("/runs/new/?pack=arithmetic")
    screenshot(phone, "experiment-form-phone")


def test_fork_a_run_then_compare_on_a_log_scale(page, lab_server):
    lab_server.wait_healthy()
    sign_up(page, "forker")
    parent = start_small_run(page)
    page.click("#run-fork")
    page.wait_for_url(re.compile(rf"/runs/{parent}/fork/"))
    assert page.input_value("#id_step") == "60"
    screenshot(page, "experiment-fork-form")
    page.fill("#id_step", "30")
    page.fill("#id_learning_rate", "0.9")  # a rate high enough to go wrong after the fork
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    child = int(re.search(r"/runs/(\d+)/$", page.url).group(1))
    assert child != parent
    page.locator('#run-status[data-status="completed"]').wait_for(timeout=60_000)
    lineage = page.locator("#run-parent").inner_text()
    assert f"A fork of run {parent} at step 30" in lineage
    assert "learning_rate 0.01 → 0.9" in lineage
    assert page.locator("#loss-canvas").get_attribute("data-fork-marked") == "30"
    screenshot(page, "experiment-fork-child")

    page.click("#run-compare")
    page.wait_for_url(re.compile(r"/runs/compare/\?run="))
    canvas = page.locator("#compare-canvas")
    canvas.wait_for()
    page.wait_for_function("document.getElementById('compare-canvas').dataset.scale")
    assert canvas.get_attribute("data-scale") == "linear"
    assert canvas.get_attribute("data-curves") == "4"  # training and validation, twice
    # the fork at 0.9 diverged: on the linear scale its curves leave the top, marked ▲
    assert int(canvas.get_attribute("data-clipped")) >= 1
    screenshot(page, "experiment-compare-linear")
    page.check("#compare-log")
    page.wait_for_function("document.getElementById('compare-canvas').dataset.scale === 'log'")
    assert page.locator("#compare-settings tr.differs", has_text="learning_rate").count() == 1
    assert page.locator("#compare-settings tr.differs", has_text="forked from").count() == 1
    assert page.locator(".compare-column[data-run] .probe-row").count() == 4
    screenshot(page, "experiment-compare-log")
    for width, name in ((1920, "projector"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"experiment-compare-{name}")
    page.set_viewport_size({"width": 1366, "height": 900})

    # "Run again with changes": the form, filled in with the child's settings
    page.goto(f"/runs/{child}/")
    page.click("#run-again")
    page.wait_for_url(re.compile(r"/runs/new/\?pack=arithmetic"))
    assert page.input_value("#id_learning_rate") == "0.9"
    assert page.input_value("#id_num_steps") == "60"

    # My runs: tick both, compare
    page.goto("/runs/")
    button = page.locator("#compare-button")
    assert button.is_disabled()
    page.get_by_label(f"Compare run {parent}").check()
    assert button.is_disabled()
    page.get_by_label(f"Compare run {child}").check()
    assert button.is_enabled()
    assert page.locator("#compare-status").inner_text() == (
        f"Run {parent} and run {child} are ticked."
    )
    screenshot(page, "experiment-my-runs-ticked")
    button.click()
    page.wait_for_url(re.compile(r"/runs/compare/\?run=\d+&run=\d+$"))
    assert page.locator("h1").inner_text().startswith("Comparing run")
