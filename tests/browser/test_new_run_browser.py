"""The new-run form and the run list in Chromium: prefilled from the pack, an invalid value
shown inline (htmx, nothing started), a valid run started and listed with its sparkline."""

import re

import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.services]


def test_start_a_run_from_the_form_and_see_it_listed(page, lab_server):
    lab_server.wait_healthy()
    sign_up(page, "runner")
    page.goto("/runs/")
    assert page.locator(".empty").inner_text().startswith("No runs yet")
    screenshot(page, "runs-list-empty")

    page.goto("/runs/new/")
    pack = page.locator("#id_pack")
    options = pack.locator("option").all_inner_texts()
    assert len(options) >= 2
    first_steps = page.input_value("#id_num_steps")
    # choosing another pack reloads the form (htmx) with that pack's recommended config
    pack.select_option(index=1)
    page.wait_for_url(re.compile(r"/runs/new/\?pack="))
    assert page.locator("#id_pack").input_value() != ""
    assert page.input_value("#id_num_steps") != "" and first_steps != ""
    assert page.locator("#id_n_embd-limit").inner_text() == "limit 4 – 64"
    screenshot(page, "runs-new-form")

    page.fill("#id_n_layer", "5")
    page.fill("#id_n_head", "3")
    page.click("button[type=submit]")
    page.locator("#id_n_layer-error").wait_for()
    assert "n_layer must be between 1 and 2" in page.locator("#id_n_layer-error").inner_text()
    assert "/runs/new/" in page.url
    screenshot(page, "runs-new-invalid")

    page.fill("#id_n_layer", "1")
    page.fill("#id_n_head", "4")
    page.fill("#id_n_embd", "16")
    page.fill("#id_num_steps", "150")
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
