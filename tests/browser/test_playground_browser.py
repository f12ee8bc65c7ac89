"""The playground in a real browser: train a small run through the site, open its
playground from the run page, type (a refused character, then a prompt), generate one
character and to the end, take a new seed, play a round against the model and a rematch
at step 1, and open a character of the prompt in the op view. Screenshots at 1366 and 390."""

import re

import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.services]

CONFIG = {
    "n_embd": "16",
    "n_head": "2",
    "n_layer": "1",
    "block_size": "16",
    "num_steps": "80",
    "sample_interval": "80",
}


def train(page):
    page.goto("/runs/new/?pack=arithmetic")
    for name, value in CONFIG.items():
        page.fill(f"#id_{name}", value)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    page.wait_for_function(
        "() => document.getElementById('run-status').dataset.status === 'completed'",
        timeout=90_000,
    )
    page.reload()
    return int(re.search(r"/runs/(\d+)/", page.url).group(1))


SETTLED = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


def type_prompt(page, text):
    page.fill("#pg-text", text)
    page.wait_for_function(
        """(text) => {
            const strip = document.querySelectorAll("#pg-reading .pg-chars li[data-p]");
            const error = document.querySelector("#pg-reading .pg-error");
            return (strip.length === text.length && !error) || (error && text.includes("x"));
        }""",
        arg=text,
    )


def test_type_generate_play_and_look_inside(page, lab_server, new_page):
    lab_server.wait_healthy()
    sign_up(page, "ada_pg")
    run_id = train(page)
    page.get_by_role("link", name=re.compile("Playground: type to the model")).click()
    page.wait_for_url(re.compile(rf"/runs/{run_id}/playground/$"))

    # a character the run never saw: said inline, with the ones it knows
    type_prompt(page, "3+x")
    error = page.locator("#pg-reading .pg-error").inner_text()
    assert "“x” is not in this run's text" in error and "It knows:" in error

    # a prompt: each character coloured with its probability, the next one's bars, attention
    type_prompt(page, "3+4=")
    strip = page.locator("#pg-reading .pg-chars li[data-p]")
    assert [strip.nth(i).inner_text().split("\n")[0] for i in range(4)] == list("3+4=")
    percents = [float(strip.nth(i).locator("small").inner_text()) for i in range(4)]
    assert all(0 <= p <= 100 for p in percents)
    bars = page.locator("#pg-reading .pg-next .bar-value")
    assert bars.count() == 10
    shown = [float(bars.nth(i).inner_text().rstrip("%")) for i in range(10)]
    assert shown == sorted(shown, reverse=True)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#pg-reading canvas.heatmap')]"
        ".every((c) => c.dataset.drawn === '5')"
    )
    assert page.locator("#pg-reading .head-thumb").count() == 2

    # one character: the distribution it was drawn from, the drawn one marked
    page.locator("button[value=next]").click()
    page.locator("#pg-generation .pg-drawn").wait_for()
    assert page.locator("#pg-generation .bars li.drawn").count() == 1
    first = page.locator("#pg-generation .pg-written .pg-new").inner_text()
    # to the end; the same seed from the same prompt writes the same text
    page.locator("button[value=end]").click()
    page.wait_for_function("() => !document.querySelector('#pg-generation .pg-drawn')")
    written = page.locator("#pg-generation .pg-written").inner_text()
    assert written.startswith("3+4=" + first)
    assert re.search(r"It stopped because (it drew BOS|the block is full)",
                     page.locator("#pg-generation").inner_text())
    screenshot(page, "playground-1366")

    # a new seed: another seed in the field, the text written afresh from the prompt
    page.locator("button[value=reseed]").click()
    page.wait_for_function("() => document.getElementById('pg-seed').value !== '1'")
    assert page.locator("#pg-generation .pg-written").inner_text().startswith("3+4=")

    # changing the prompt empties what was written for the old one
    type_prompt(page, "3+4=7")
    page.locator("#pg-generation .empty").wait_for()

    # a round against the model: 20 characters, scored, the best kept
    game = page.locator("#pg-game")
    for number in range(1, 21):
        game.locator("#pg-guess").wait_for()
        assert f"Character {number} of 20" in game.inner_text()
        # type once htmx has settled the new round's form (its input listener is attached then)
        page.wait_for_function(SETTLED)
        game.locator("#pg-guess").press_sequentially("1")
        page.wait_for_function(
            f"() => document.querySelectorAll('#pg-game .pg-rows tbody tr').length === {number}"
        )
    assert "Round over: you guessed" in game.inner_text()
    assert re.search(r"model at step \d+: you \d+ of 20", game.locator(".pg-best").inner_text())
    screenshot(page, "playground-round-1366")
    # the rematch against the untrained start
    game.get_by_role("button", name=re.compile("Rematch: the model at step 1")).click()
    page.wait_for_function(
        "() => document.getElementById('pg-game-h').textContent.includes('model at step 1')"
    )

    # a character of the prompt opens the op view of that position of this text
    strip.nth(4).click()
    page.wait_for_url(re.compile(rf"/runs/{run_id}/steps/\d+/text/[\w-]+/tokens/4/ops/$"))
    heading = page.locator("h1").inner_text()
    assert heading == "How “=” predicted “7”"
    assert "of your own text" in page.locator(".op-title").inner_text()
    page.locator("#op-step").click()
    page.wait_for_function("() => document.getElementById('op-graph').dataset.op === '1'")
    screenshot(page, "playground-opview-1366")
    page.get_by_role("link", name=re.compile("Playground of run")).click()
    page.wait_for_url(re.compile(rf"/runs/{run_id}/playground/\?step=\d+&text="))
    assert page.locator("#pg-text").input_value() == "3+4=7"

    # a phone: the same page, nothing wider than the screen
    phone = new_page(viewport=(390, 844))
    phone.goto("/accounts/login/")
    phone.fill("input[name=username]", "ada_pg")
    phone.fill("input[name=password]", "a-long-pass-phrase-42")
    phone.click("form button[type=submit]")
    phone.goto(page.url)
    phone.locator("#pg-reading .pg-chars li[data-p]").first.wait_for()
    phone.locator("button[value=next]").click()
    phone.locator("#pg-generation .pg-drawn").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "playground-390")
