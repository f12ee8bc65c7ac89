"""A 30-student lesson, in small: five students' runs on the panel, one of them diverged
(loss 600,000). The class chart stays readable (the diverged curve is clipped and marked;
log scale shows it whole; a run can be hidden; curves group by pack), the results table
sorts and filters, a new student follows the join link through sign-up into the class,
and the spotlight fits a 1920×1080 projector with no scrolling."""

import re

import pytest

from tests.browser.conftest import choose_pack, screenshot
from tests.browser.test_classroom_browser import create_classroom, make_instructor
from tests.browser.test_first_look_browser import WIDEST

pytestmark = [pytest.mark.browser, pytest.mark.services]

# Five students with stored loss curves (what the panel reads): four learn, one diverges.
SEED_LESSON = """
import math
from classrooms.models import Classroom
from django.contrib.auth import get_user_model
from packs_app.models import Pack
from runs.models import Kind, Run

room = Classroom.objects.get(pk={classroom_id})
packs = list(Pack.objects.filter(builtin=True).order_by("slug")[:2])
config = {{"n_embd": 16, "n_head": 2, "n_layer": 1, "block_size": 16, "num_steps": 300,
          "learning_rate": 0.01, "seed": 1, "temperature": 0.5, "top_k": 5,
          "sample_count": 2, "sample_interval": 50}}
for index, name in enumerate(["amy", "bo", "cy", "di", "ed"]):
    user = get_user_model().objects.create_user(name, password="a-long-pass-phrase-42")
    room.join(user)
    run = Run.objects.create(owner=user, pack=packs[index % 2], config=config, num_steps=300,
                             status=Run.Status.RUNNING, vocab="abcdefghijklmnopqrst",
                             classroom=room if index != 3 else None)
    if name == "ed":  # diverged: six hundred thousand and falling slowly
        losses = [3.0] * 20 + [6e5 - 500 * i for i in range(180)]
    else:
        losses = [0.8 + 2.2 * math.exp(-(i + 1) / (60 + 15 * index)) for i in range(200)]
    events = [(Kind.STEP, i + 1, {{"step": i + 1, "loss": loss}}) for i, loss in enumerate(losses)]
    run.append_events(events, current_step=len(losses))
print("seeded")
"""

TINY_RUN = {"n_embd": "16", "n_head": "2", "n_layer": "1", "block_size": "32",
            "num_steps": "400", "sample_interval": "100", "seed": "3"}  # fmt: skip


def canvas(page):
    return page.locator("#overlay canvas.overlay-canvas")


@pytest.mark.timeout(600)  # one lesson end to end: ~90 s on an idle machine
def test_a_lesson_with_a_diverged_run_stays_readable(new_page, lab_server):
    teacher = new_page(viewport=(1440, 1000))
    make_instructor(teacher, lab_server, "mr_lovelace")
    classroom_id = create_classroom(teacher)
    code = teacher.get_by_test_id("join-code").inner_text().strip()
    assert "seeded" in lab_server.manage(
        "shell", "-c", SEED_LESSON.format(classroom_id=classroom_id)
    )

    # a new student follows the join link: log-in page -> sign up -> back to the join page
    grace = new_page()
    grace.goto(f"/classrooms/join/?code={code}")
    grace.wait_for_url("**/accounts/login/**")
    grace.locator("#main").get_by_role("link", name="Sign up").click()
    grace.fill("#id_username", "grace")
    grace.fill("#id_password1", "a-long-pass-phrase-42")
    grace.fill("#id_password2", "a-long-pass-phrase-42")
    grace.click("button[type=submit]")
    grace.wait_for_url(f"**/classrooms/join/?code={code}")
    assert grace.get_by_text("What your instructor will see").is_visible()
    screenshot(grace, "instructor-join-page")
    grace.get_by_role("button", name="Join Tuesday lesson").click()
    grace.wait_for_url(f"**/classrooms/{classroom_id}/")
    grace.get_by_role("link", name=re.compile("Start a run in")).click()
    choose_pack(grace, "Arithmetic")
    for name, value in TINY_RUN.items():
        grace.fill(f"#id_{name}", value)
    grace.get_by_role("button", name="Start training").click()
    grace.wait_for_url(re.compile(r"/runs/\d+/$"))
    grace_run = int(grace.url.rstrip("/").rsplit("/", 1)[1])

    # the panel: six students; the chart fits the calm curves, the diverged one is marked
    teacher.goto(f"/classrooms/{classroom_id}/")
    teacher.locator(f"#result-run-{grace_run}").wait_for()
    chart = canvas(teacher)
    chart.wait_for()
    # read in one go in the page: a push may swap the chart for a fresh one between reads
    ymax = teacher.wait_for_function(
        """() => { const c = document.querySelector('#overlay canvas');
                   return c && c.dataset.clipped === '1' && c.dataset.ymax
                       ? Number(c.dataset.ymax) : null; }"""
    ).json_value()
    assert ymax < 10  # not stretched to 600,000
    ed_row = teacher.locator("#roster tr[data-student='ed']")
    assert "Diverged" in ed_row.inner_text() and ed_row.get_attribute("data-attention") == "1"
    assert "private" in teacher.locator("#roster tr[data-student='di']").inner_text()
    screenshot(teacher, "instructor-panel-1440")

    # log scale shows the whole of it; hiding the diverged run rescales to the others
    teacher.check("[data-overlay-log]")
    ymax = teacher.wait_for_function(
        """() => { const c = document.querySelector('#overlay canvas');
                   return c && c.dataset.scale === 'log' && c.dataset.ymax
                       ? Number(c.dataset.ymax) : null; }"""
    ).json_value()
    assert ymax >= 6e5
    teacher.uncheck("[data-overlay-log]")
    ed_curve = teacher.locator("#overlay li", has_text="ed ·")
    shown = int(chart.get_attribute("data-shown"))
    ed_curve.locator("input[data-overlay-toggle]").uncheck()
    assert int(chart.get_attribute("data-shown")) == shown - 1
    assert chart.get_attribute("data-clipped") == "0"
    teacher.check("[data-overlay-group]")
    # two packs (read in the page's own poll: a redraw rebuilds the legend)
    teacher.wait_for_function(
        "document.querySelectorAll('#overlay li.legend-group').length === 2"
    )
    screenshot(teacher, "instructor-panel-grouped")
    teacher.get_by_role("button", name="Show every run").click()
    assert int(chart.get_attribute("data-shown")) == shown

    # the table: sort by smoothed loss (the diverged run last), filter to what needs attention
    teacher.get_by_role("button", name="Smoothed loss").click()
    order = teacher.locator("#roster tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.student)"
    )
    assert order[-1] == "ed" or order.index("ed") > order.index("amy")
    teacher.check("#attention-only")
    visible = teacher.locator("#roster tbody tr:visible")
    names = visible.evaluate_all("rows => rows.map(r => r.dataset.student)")
    assert "ed" in names and "amy" not in names
    screenshot(teacher, "instructor-panel-attention")
    teacher.uncheck("#attention-only")

    # on a phone the table stacks each run's figures (nothing wider than the screen)
    phone = new_page(viewport=(390, 844))
    phone.context.add_cookies(teacher.context.cookies())
    phone.goto(f"/classrooms/{classroom_id}/")
    phone.locator(f"#result-run-{grace_run}").wait_for()
    screenshot(phone, "instructor-panel-phone")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, (width, phone.evaluate(WIDEST))

    # a page per student
    teacher.locator("#roster tr[data-student='ed'] th a").click()
    teacher.wait_for_url(re.compile(r"/students/\d+/$"))
    assert teacher.get_by_role("heading", name="ed", exact=True).is_visible()
    screenshot(teacher, "instructor-student-page")

    # the projector: grace's run, shared with the class
    teacher.goto(f"/classrooms/{classroom_id}/")
    teacher.locator(f"#result-run-{grace_run}").get_by_role("button", name="Spotlight").click()
    teacher.locator(f"#result-run-{grace_run}", has_text="on the spotlight").wait_for()
    projector = new_page(viewport=(1920, 1080))
    projector.context.add_cookies(teacher.context.cookies())
    projector.goto(f"/classrooms/{classroom_id}/spotlight/")
    projector.locator("#loss-canvas").wait_for()
    projector.locator(".attention .heatmap-focus").wait_for(timeout=60_000)
    projector.wait_for_timeout(1500)
    assert projector.locator("header.topbar").count() == 0  # no site menu
    size = projector.evaluate(
        "[document.documentElement.scrollHeight, document.documentElement.scrollWidth]"
    )
    assert size[0] <= 1080 and size[1] <= 1920, size
    smallest = projector.evaluate(
        """() => Math.min(...Array.from(document.querySelectorAll('.spotlight-page *'))
            .filter(el => el.offsetParent && Array.from(el.childNodes)
                .some(n => n.nodeType === 3 && n.textContent.trim()))
            .map(el => parseFloat(getComputedStyle(el).fontSize)))"""
    )
    assert smallest >= 24, smallest
    # the attention cell says in short how to read the map (the run page's help is too long)
    assert projector.locator(".attention-key-short").is_visible()
    assert projector.evaluate("parseFloat(LabData.fontPx(0.7))") >= 24  # chart axis labels
    screenshot(projector, "instructor-spotlight-1920")
    projector.keyboard.press("v")
    assert projector.locator(".spotlight-page").get_attribute("data-view") == "loss"
    # H while the attention is hidden picks the next head (it froze the page: a hidden map's
    # labels were drawn in a loop that never ended) and shows it when the attention is shown
    heads = projector.locator(".spotlight-page .head-thumb")
    assert heads.count() == 2  # TINY_RUN: one layer, two heads
    projector.keyboard.press("h")
    assert heads.nth(1).get_attribute("aria-pressed") == "true"
    projector.keyboard.press("v")
    assert projector.locator(".spotlight-page").get_attribute("data-view") == "predictions"
    box = projector.locator("#run-tokens").bounding_box()
    assert box and box["width"] > 1500 and box["height"] > 700  # over the whole stage
    assert not projector.locator("#loss-canvas").is_visible()
    # alone on the stage, the predictions read from the back of the room
    assert projector.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#run-tokens h3')).fontSize)"
    ) >= 40
    screenshot(projector, "instructor-spotlight-predictions")
    # the attention alone: the head H chose while it was hidden, drawn at the stage's size
    projector.keyboard.press("v")
    assert projector.locator(".spotlight-page").get_attribute("data-view") == "attention"
    focus = projector.locator(".spotlight-page .heatmap-focus")
    projector.wait_for_function(
        """() => { const c = document.querySelector('.spotlight-page .heatmap-focus');
                   return c && c.dataset.drawn && c.width === Math.round(c.clientWidth
                       * devicePixelRatio) && c.clientWidth > 600; }"""
    )
    assert "head 1" in projector.locator(".attention-focus-caption").inner_text()
    assert focus.bounding_box()["height"] > 600
    screenshot(projector, "instructor-spotlight-attention")
