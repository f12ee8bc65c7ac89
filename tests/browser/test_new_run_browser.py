"""The new-run form and the run list in Chromium: prefilled from the pack (htmx, no console
errors), every invalid value shown inline at once in the labels' words (letters typed into a
number field included; nothing started), a valid run started and listed with its sparkline,
and the run count brought up to date when a 4th run is refused."""

import re

import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.services]

# As big and long as the limits allow: still running when the 4th run is refused.
LONG_RUN = {"n_embd": "64", "n_head": "8", "n_layer": "2", "block_size": "64", "num_steps": "2000"}


def console_errors(page):
    """A list that fills with the page's console errors and uncaught exceptions."""
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_start_a_run_from_the_form_and_see_it_listed(page, lab_server):
    lab_server.wait_healthy()
    sign_up(page, "runner")
    page.goto("/runs/")
    assert page.locator(".empty").inner_text().startswith("No runs yet")
    screenshot(page, "runs-list-empty")

    errors = console_errors(page)
    page.goto("/runs/new/")
    assert page.locator("#active-runs").inner_text() == "You have 0 of 3 runs queued or running."
    pack = page.locator("#id_pack")
    options = pack.locator("option").all_inner_texts()
    assert len(options) >= 2
    first_steps = page.input_value("#id_num_steps")
    # choosing another pack brings the settings it recommends otherwise (htmx; the menu stays)
    pack.select_option(index=1)
    page.locator("#pack-changed").wait_for()
    assert page.locator("#id_pack").input_value() != ""
    assert page.input_value("#id_num_steps") != "" and first_steps != ""
    assert page.locator("#id_n_embd_helptext").inner_text() == "limit 4 – 64"
    assert page.get_attribute("#id_num_steps", "inputmode") == "numeric"
    assert page.get_attribute("#id_learning_rate", "inputmode") == "decimal"
    assert errors == []
    screenshot(page, "runs-new-form")

    # every bad field in one answer, each in its label's words; "12e" is not "required"
    page.fill("#id_n_layer", "5")
    page.fill("#id_n_embd", "32")
    page.fill("#id_n_head", "5")
    page.fill("#id_num_steps", "12e")
    page.fill("#id_seed", "-1")
    page.click("button[type=submit]")
    page.locator("#id_n_layer_error").wait_for()
    shown = {
        name: page.locator(f"#id_{name}_error").inner_text()
        for name in ("n_layer", "n_head", "num_steps", "seed")
    }
    assert shown == {
        "n_layer": "Layers must be between 1 and 2 (got 5).",
        "n_head": "Attention heads must divide the embedding size: 5 does not divide 32.",
        "num_steps": "Enter a whole number.",
        "seed": "Random seed must be between 0 and 4,294,967,295 (got -1).",
    }
    assert page.input_value("#id_num_steps") == "12e"  # what was typed stays to be fixed
    # the browser notes the 400 itself; htmx and the page log nothing
    assert errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    assert "/runs/new/" in page.url
    screenshot(page, "runs-new-invalid")

    page.fill("#id_n_layer", "1")
    page.fill("#id_n_head", "4")
    page.fill("#id_n_embd", "16")
    page.fill("#id_num_steps", "150")
    page.fill("#id_seed", "7")
    page.fill("#id_sample_interval", "50")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    run_url = page.url
    page.locator('#run-status[data-status="completed"]').wait_for(timeout=60_000)

    page.goto("/runs/")
    row = page.locator("table.run-list tbody tr").first
    assert "Completed" in row.inner_text()
    assert row.locator("svg.sparkline polyline").count() == 1
    assert row.locator("a").get_attribute("href") in run_url
    screenshot(page, "runs-list")


def test_a_refused_fourth_run_brings_the_count_up_to_date(page, lab_server):
    lab_server.wait_healthy()
    sign_up(page, "busy-runner")
    page.goto("/runs/new/")
    assert page.locator("#active-runs").inner_text() == "You have 0 of 3 runs queued or running."

    other_tab = page.context.new_page()
    run_urls = []
    for _ in range(3):
        other_tab.goto("/runs/new/")
        for name, value in LONG_RUN.items():
            other_tab.fill(f"#id_{name}", value)
        other_tab.click("button[type=submit]")
        other_tab.wait_for_url(re.compile(r"/runs/\d+/$"))
        run_urls.append(other_tab.url)

    page.click("button[type=submit]")  # the page still says 0 of 3
    page.locator("#run-form-errors").wait_for()
    assert (
        "You already have 3 runs queued or running; the limit is 3"
        in page.locator("#run-form-errors").inner_text()
    )
    assert page.locator("#active-runs").inner_text() == "You have 3 of 3 runs queued or running."
    screenshot(page, "runs-new-refused")

    other_tab.on("dialog", lambda dialog: dialog.accept())  # "Cancel run N at step S?"
    for url in run_urls:  # leave the worker free for the other tests
        other_tab.goto(url)
        other_tab.click(".run-cancel button")
        other_tab.locator('#run-status[data-status="canceled"]').wait_for(timeout=30_000)
    page.goto("/runs/new/")
    assert page.locator("#active-runs").inner_text() == "You have 0 of 3 runs queued or running."
