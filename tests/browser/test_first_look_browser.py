"""A newcomer's first minute, on a 390 px phone: the home page's cards open a showcase run
anyone may explore; then, signed up, every main page fits the screen (no sideways scroll),
and Cancel asks once before it cancels."""

import re

import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.services]

PHONE = (390, 844)
LONG_RUN = {  # long enough to be canceled while it runs
    "n_embd": "64",
    "n_head": "4",
    "n_layer": "2",
    "block_size": "64",
    "num_steps": "2000",
    "seed": "3",
}


WIDEST = """() => [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
    .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`.slice(0, 80))
    .slice(-6)"""


def assert_fits(page, name):
    """No sideways scroll at this width; saves the screenshot as phone-<name>."""
    page.wait_for_load_state("networkidle")
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    screenshot(page, f"phone-{name}")
    if scroll_width > inner_width:  # name what sticks out, to make the failure useful
        wide = page.evaluate(WIDEST)
        raise AssertionError(f"{name}: {scroll_width} px wide at {inner_width} px: {wide}")


def test_a_visitor_explores_a_showcase_then_every_page_fits_a_phone(new_page, lab_server):
    lab_server.manage("train_showcases", "arithmetic")

    visitor = new_page(PHONE)
    visitor.goto("/")
    assert_fits(visitor, "home-visitor")
    visitor.get_by_role("link", name="Arithmetic").click()
    visitor.wait_for_url(re.compile(r"/runs/\d+/$"))
    showcase_url = visitor.url
    assert visitor.get_by_text("A showcase run.").is_visible()
    assert visitor.get_by_role("link", name="Sign up to train your own").is_visible()
    assert visitor.get_by_role("button", name="Cancel run").count() == 0
    # the template in words; its regex only behind the toggle
    regex = visitor.locator(".template-regex")
    assert visitor.get_by_text("Template: A+B=C or A-B=C").is_visible()
    assert not regex.is_visible()
    visitor.locator(".template-note summary").click()
    assert regex.is_visible() and regex.inner_text().startswith(r"\d[+-]\d")
    assert visitor.get_by_text("Correct means: the result is the true sum").is_visible()
    assert_fits(visitor, "showcase-run")
    # the op view inspects a step's own training line (the page opens on the probe line)
    visitor.get_by_role("button", name="This step's training line").click()
    visitor.wait_for_function(
        "() => document.getElementById('run-snapshot-view').dataset.view === 'line'"
    )
    visitor.get_by_role("link", name=re.compile("Inspect every operation")).click()
    visitor.wait_for_url(re.compile(r"/ops/"))
    assert visitor.get_by_text("A showcase run.").is_visible()
    assert_fits(visitor, "showcase-ops")

    # a teacher's classroom, for the student's classroom pages and the teacher's panel
    teacher = new_page(PHONE)
    sign_up(teacher, "ms_lovelace")
    lab_server.manage("make_instructor", "ms_lovelace")
    teacher.goto("/classrooms/new/")
    teacher.fill("#id_name", "Thursday lesson")
    teacher.get_by_role("button", name="Create classroom").click()
    teacher.wait_for_url(re.compile(r"/classrooms/\d+/$"))
    code = teacher.get_by_test_id("join-code").inner_text().strip()
    panel_url = teacher.url

    student = new_page(PHONE)
    sign_up(student, "grace_phone")
    student.goto(showcase_url)
    assert student.get_by_role("link", name="Train your own on Arithmetic").is_visible()
    student.goto("/runs/new/?pack=arithmetic")
    assert_fits(student, "new-run")
    for name, value in LONG_RUN.items():
        student.fill(f"#id_{name}", value)
    student.get_by_role("button", name="Start training").click()
    student.wait_for_url(re.compile(r"/runs/\d+/$"))
    run_id = int(student.url.rstrip("/").rsplit("/", 1)[1])
    student.locator("#run-status[data-status='running']").wait_for(timeout=60_000)
    assert_fits(student, "run-running")

    # Cancel asks once, naming the run and its step; "no" leaves it running
    questions = []
    student.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    student.get_by_role("button", name="Cancel run").click()
    assert re.fullmatch(rf"Cancel run {run_id} at step \d+\?", questions[0])
    assert student.locator("#run-status").get_attribute("data-status") == "running"
    student.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    student.get_by_role("button", name="Cancel run").click()
    student.locator("#run-status[data-status='canceled']").wait_for(timeout=30_000)
    assert len(questions) == 2
    assert_fits(student, "run-canceled")

    student.goto("/runs/")
    assert_fits(student, "my-runs")
    student.goto("/packs/upload/")
    student.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": "a-file-with-a-rather-long-name-for-a-phone-screen.txt",
                "mimeType": "text/plain",
                "buffer": "\n".join(f"sailor number {i}" for i in range(50)).encode(),
            }
        ]
    )
    student.get_by_role("button", name="Upload").click()
    student.wait_for_url("**/packs/upload/?upload=*")
    assert_fits(student, "upload")
    student.goto("/classrooms/")
    assert_fits(student, "classrooms")
    student.goto("/classrooms/join/")
    assert_fits(student, "classroom-join")
    student.fill("#id_code", code)
    student.get_by_role("button", name="Join").click()
    student.wait_for_url(re.compile(r"/classrooms/\d+/$"))
    assert_fits(student, "classroom-student")

    teacher.goto(panel_url)
    teacher.locator("#roster").get_by_text("grace_phone").wait_for()
    assert_fits(teacher, "classroom-panel")
