"""A lesson end to end: an instructor assigns the starter lesson "What a loss curve says"
from the panel, two students follow its path, one meets the challenge and the panel's
matrix shows it live, the other misses it; then the instructor exports the CSV."""

import re
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot, screenshot_folder, sign_up
from tests.browser.test_classroom_browser import create_classroom, make_instructor

pytestmark = [pytest.mark.browser, pytest.mark.services]


def join(page, name, code):
    sign_up(page, name)
    page.goto(f"/classrooms/join/?code={code}")
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(re.compile(r"/classrooms/\d+/$"))


def start_step_two(page, learning_rate=None):
    page.get_by_role("link", name="What a loss curve says").click()
    page.wait_for_url("**/lessons/assigned/*/")
    page.locator("#step-2").get_by_role("link", name="Start this step's run").click()
    page.wait_for_url("**/runs/new/?*lesson_step=*")
    assert page.locator("#lesson-step-note").is_visible()
    assert page.locator("#id_n_embd").is_disabled()  # locked by the lesson
    if learning_rate:
        page.fill("#id_learning_rate", learning_rate)
    else:
        screenshot(page, "lessons-prepared-form")
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))


@pytest.mark.timeout(300)
def test_an_instructor_assigns_a_starter_lesson_and_watches_the_class(new_page, lab_server):
    teacher = new_page(viewport=(1366, 900))
    make_instructor(teacher, lab_server, "ms_hopper_l")
    classroom_id = create_classroom(teacher)
    code = teacher.get_by_test_id("join-code").inner_text().strip()
    teacher.wait_for_selector("#assign-lesson")
    teacher.select_option("#assign-lesson", label="What a loss curve says (starter)")
    teacher.locator("#assign-lesson-form").get_by_role("button", name="Assign").click()
    teacher.wait_for_url(f"**/classrooms/{classroom_id}/")

    quick, slow = new_page(viewport=(1366, 900)), new_page(viewport=(390, 844))
    join(quick, "lesson_ada", code)
    join(slow, "lesson_bob", code)
    teacher.reload()
    teacher.wait_for_selector("table.lesson-matrix")
    screenshot(teacher, "lessons-panel-before")

    start_step_two(quick)
    quick.wait_for_selector("text=Challenge met at step", timeout=120_000)
    screenshot(quick, "lessons-run-met")
    start_step_two(slow, learning_rate="0.00001")
    slow.wait_for_selector("text=Challenge not met", timeout=120_000)
    screenshot(slow, "lessons-run-not-met-phone")
    slow.get_by_role("link", name="back to the lesson").click()
    slow.wait_for_url("**/lessons/assigned/*/#step-2")
    assert "dot-not_met" in slow.locator(".progress-dots a").nth(1).get_attribute("class")
    screenshot(slow, "lessons-student-path-phone")
    slow.get_by_role("link", name=re.compile("^← ")).click()
    slow.locator("#classroom-lessons .dot-not_met").wait_for()
    screenshot(slow, "lessons-classroom-page-phone")

    row = teacher.locator("tr[data-student='lesson_ada'] td").nth(1)
    row.get_by_text(re.compile(r"met at step \d+")).wait_for(timeout=30_000)  # pushed live
    teacher.locator("tr[data-student='lesson_bob'] td").nth(1).get_by_text(
        "not met").wait_for(timeout=30_000)
    assert teacher.locator("ol.board li").count() == 1
    assert "lesson_ada" in teacher.locator("ol.board").inner_text()
    screenshot(teacher, "lessons-panel-live")
    teacher.set_viewport_size({"width": 1920, "height": 1080})
    screenshot(teacher, "lessons-panel-projector")
    teacher.set_viewport_size({"width": 390, "height": 844})
    screenshot(teacher, "lessons-panel-phone")
    teacher.locator(".lessons-panel").screenshot(  # the section alone, legible at 390 px
        path=str(screenshot_folder() / "lessons-panel-section-phone.png"))
    teacher.set_viewport_size({"width": 1366, "height": 900})

    # the student answers the step's question; the panel marks it live
    quick.get_by_role("link", name="back to the lesson").click()
    quick.wait_for_url("**/lessons/assigned/*/#step-2")
    quick.fill("#step-2 textarea", "It fell fast at first, then slowly.")
    quick.locator("#step-2").get_by_role("button", name="Save my answer").click()
    quick.get_by_text("Saved: your instructor can read it.").wait_for()
    assert "dot-met" in quick.locator(".progress-dots a").nth(1).get_attribute("class")
    screenshot(quick, "lessons-student-path")
    teacher.locator("tr[data-student='lesson_ada'] td").nth(1).locator(".note").wait_for(
        timeout=30_000)
    cell = teacher.locator("tr[data-student='lesson_ada'] td").nth(1)
    assert "It fell fast at first" in cell.get_attribute("title")
    with teacher.expect_download() as download:
        teacher.get_by_role("link", name="Export results (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("student,lesson,step,run")
    assert re.search(r"lesson_ada,What a loss curve says,2\. Falling loss,\d+,completed", text)
    assert "It fell fast at first, then slowly." in text

    teacher.set_viewport_size({"width": 1366, "height": 900})
    teacher.goto("/lessons/")
    teacher.get_by_role("link", name="Attention learns to look back").click()
    assert teacher.get_by_text("Leapfrog letters").first.is_visible()
    screenshot(teacher, "lessons-starter-lesson")


@pytest.mark.timeout(120)
def test_an_instructor_writes_a_lesson_with_a_challenge(new_page, lab_server):
    teacher = new_page(viewport=(1366, 900))
    make_instructor(teacher, lab_server, "mr_knuth_l")
    create_classroom(teacher)
    teacher.get_by_role("link", name="Lessons").first.click()
    teacher.wait_for_url("**/lessons/")
    screenshot(teacher, "lessons-list")
    teacher.fill("#id_title", "Sums by heart")
    teacher.fill("#id_summary", "Can a tiny model learn to add?")
    teacher.get_by_role("button", name="Create the lesson").click()
    teacher.wait_for_url(re.compile(r"/lessons/\d+/$"))
    teacher.fill("#id_title", "Train on sums")
    teacher.fill("#id_instructions", "Train it, then read its **samples**.\n\n- one\n- two")
    teacher.select_option("#id_pack", label="Arithmetic")
    teacher.fill("#id_config_learning_rate", "0.01")
    teacher.check("input[name='locked_fields'][value='learning_rate']")
    teacher.select_option("#id_challenge_kind", label="Share of samples that are correct")
    teacher.fill("#id_challenge_target", "80")  # a share is between 0 and 1
    teacher.get_by_role("button", name="Add the step").click()
    teacher.get_by_text("A share or a score is between 0 and 1.").wait_for()
    screenshot(teacher, "lessons-step-form-error")
    teacher.fill("#id_challenge_target", "0.8")
    teacher.get_by_role("button", name="Add the step").click()
    teacher.get_by_text("Step 1 added.").wait_for()
    card = teacher.locator("#step-1")
    assert card.locator("strong", has_text="samples").is_visible()  # Markdown rendered
    assert "at least 80% of a batch of samples to be correct" in card.inner_text()
    assert "fixed for students: learning rate" in card.inner_text()
    screenshot(teacher, "lessons-editor")

    # a second step, moved above the first, then changed in place
    teacher.fill("#id_title", "Guess first")
    teacher.fill("#id_instructions", "Before training: what will the loss start at?")
    teacher.select_option("#id_opens", label="nothing (read, then reflect)")
    teacher.fill("#id_reflection", "What is your guess?")
    teacher.get_by_role("button", name="Add the step").click()
    teacher.get_by_text("Step 2 added.").wait_for()
    teacher.locator("#step-2").get_by_role("button", name="↑ Move up").click()
    teacher.get_by_text("“Guess first” moved from step 2 to step 1.").wait_for()
    assert "Guess first" in teacher.locator("#step-1 h2").inner_text()
    assert teacher.locator("#step-1").get_by_role("button", name="↑ Move up").count() == 0
    teacher.locator("#step-2").get_by_role("link", name="Change this step").click()
    teacher.wait_for_url(re.compile(r"/lessons/\d+/steps/\d+/$"))
    assert teacher.locator("#id_challenge_target").input_value() == "0.8"  # as stored
    assert teacher.locator("input[name='locked_fields'][value='learning_rate']").is_checked()
    teacher.fill("#id_title", "Train on sums, longer")
    teacher.fill("#id_config_num_steps", "600")
    screenshot(teacher, "lessons-step-change")
    teacher.get_by_role("button", name="Save the step").click()
    teacher.get_by_text("Step 2 saved.").wait_for()
    assert "Train on sums, longer" in teacher.locator("#step-2 h2").inner_text()
    teacher.set_viewport_size({"width": 390, "height": 844})
    screenshot(teacher, "lessons-editor-phone")
    teacher.locator("#step-2").get_by_role("link", name="Change this step").click()
    teacher.wait_for_url(re.compile(r"/lessons/\d+/steps/\d+/$"))
    screenshot(teacher, "lessons-step-change-phone")
    teacher.goto("/lessons/")
    screenshot(teacher, "lessons-list-phone")
    teacher.get_by_role("link", name="What a loss curve says").click()
    teacher.get_by_role("button", name="Copy to edit").click()
    teacher.get_by_text("What a loss curve says (copy) is yours to change").wait_for()
    assert teacher.get_by_role("link", name="Change this step").count() == 2
    screenshot(teacher, "lessons-copied-starter-phone")
