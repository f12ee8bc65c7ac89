"""A lesson in three browsers: the instructor creates a classroom, two students join with
the code and start runs, the panel shows both live and the overlay draws both curves,
and the spotlight follows the instructor's switch."""

import re

import pytest

from classrooms.panel import regular_steps
from tests.browser.conftest import choose_pack, click_while_pushed, screenshot, sign_up

# services too: in production the wake-ups cross from the Celery worker to daphne via Redis
pytestmark = [pytest.mark.browser, pytest.mark.services]

LESSON_CONFIG = {  # small, but long enough to watch (about ten seconds)
    "n_embd": "32",
    "n_head": "4",
    "n_layer": "1",
    "block_size": "32",
    "num_steps": "2000",
    "sample_interval": "250",
    "seed": "7",
}


def make_instructor(page, lab_server, name):
    sign_up(page, name)
    lab_server.manage("make_instructor", name)
    page.reload()


def create_classroom(page):
    page.goto("/classrooms/")
    page.get_by_role("link", name="New classroom").click()
    page.fill("#id_name", "Tuesday lesson")
    page.fill("#id_description", "Tiny GPTs on arithmetic.")
    page.get_by_role("button", name="Create classroom").click()
    page.wait_for_url(re.compile(r"/classrooms/\d+/$"))
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def set_lesson_defaults(page, classroom_id):
    page.goto(f"/classrooms/{classroom_id}/edit/")
    for name, value in LESSON_CONFIG.items():
        page.fill(f"#id_rules-config_{name}", value)
    page.check("input[name='rules-locked_fields'][value='n_embd']")
    screenshot(page, "classroom-settings")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_url(f"**/classrooms/{classroom_id}/")


def join_and_start_a_run(page, name, code, seed):
    sign_up(page, name)
    page.goto("/classrooms/")
    assert page.get_by_text("You are not in a classroom yet").is_visible()
    page.fill("#id_code", code.lower())
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(re.compile(r"/classrooms/\d+/$"))
    assert page.get_by_text("Welcome to Tuesday lesson").is_visible()
    screenshot(page, "classroom-student-page")
    page.get_by_role("link", name=re.compile("Start a run in")).click()
    page.wait_for_url("**/runs/new/?classroom=*")
    choose_pack(page, "Arithmetic")
    assert page.input_value("#id_num_steps") == LESSON_CONFIG["num_steps"]
    assert page.locator("#id_n_embd").is_disabled()  # locked by the classroom
    page.fill("#id_seed", str(seed))  # the seed is theirs to choose
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def test_a_lesson_with_an_instructor_and_two_students(new_page, lab_server):
    teacher = new_page()
    make_instructor(teacher, lab_server, "ms_hopper")
    classroom_id = create_classroom(teacher)
    code = teacher.get_by_test_id("join-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code)
    set_lesson_defaults(teacher, classroom_id)
    # the panel stays open from here on: everything below arrives over its socket
    teacher.evaluate("window.openedOnce = true")
    screenshot(teacher, "classroom-panel-empty")

    ada, alan = new_page(), new_page()
    ada_run = join_and_start_a_run(ada, "ada", code, seed=7)
    screenshot(ada, "classroom-student-run")
    alan_run = join_and_start_a_run(alan, "alan", code, seed=8)

    roster = teacher.locator("#roster")
    roster.locator(f"#result-run-{ada_run}").wait_for()
    roster.locator(f"#result-run-{alan_run}").wait_for()
    teacher.wait_for_function(
        "() => document.querySelector('canvas[data-overlay-source]')"
        "?.getAttribute('data-curves') === '2'",
        timeout=60_000,
    )
    # tick both runs to compare (one by keyboard): the ticks survive the roster's pushes
    compare_button = teacher.get_by_role("button", name="Compare", exact=True)
    assert compare_button.is_disabled()
    teacher.get_by_label(f"Compare run {ada_run}").check()
    assert compare_button.is_disabled()
    teacher.get_by_label(f"Compare run {alan_run}").focus()
    teacher.keyboard.press("Space")
    assert compare_button.is_enabled()
    row_state = f"""() => {{
        const row = document.querySelector('#result-run-{alan_run}');
        return [row.querySelector('.step').textContent, row.dataset.status];
    }}"""
    steps_before, status_before = teacher.evaluate(row_state)
    teacher.wait_for_function(  # a push after the ticks: the step moved, or the run ended
        f"""() => {{
            const row = document.querySelector('#result-run-{alan_run}');
            return row && (row.querySelector('.step')?.textContent !== {steps_before!r}
                           || row.dataset.status !== {status_before!r});
        }}""",
        timeout=30_000,
    )
    for run_id in (ada_run, alan_run):
        assert teacher.get_by_label(f"Compare run {run_id}").is_checked()
    assert compare_button.is_enabled()
    assert teacher.evaluate("window.openedOnce === true")  # live, not reloaded
    assert "ada" in roster.inner_text() and "alan" in roster.inner_text()
    assert teacher.locator("#funnel").get_by_text("started a first run").is_visible()
    screenshot(teacher, "classroom-panel-live")

    # the spotlight, open on a projector, follows the instructor's choice
    projector = teacher.context.new_page()
    projector.set_viewport_size({"width": 1600, "height": 1000})
    projector.goto(f"/classrooms/{classroom_id}/spotlight/")
    assert projector.get_by_text("Nothing on the spotlight yet").is_visible()
    # the table is re-rendered by every live push while runs train (see click_while_pushed)
    spotlight = teacher.locator(f"#result-run-{ada_run}").get_by_role("button", name="Spotlight")
    click_while_pushed(spotlight)
    projector.locator(f"#spotlight-stage[data-run='{ada_run}']").wait_for()
    projector.locator("#loss-canvas").wait_for()
    projector.wait_for_function(
        "() => Number(document.querySelector('#loss-canvas')?.getAttribute('data-points')) > 0",
        timeout=30_000,
    )
    assert "ada" in projector.locator(".spotlight-title").inner_text()
    screenshot(projector, "classroom-spotlight-ada")
    # the table is re-rendered by every live push while runs train (see click_while_pushed)
    spotlight = teacher.locator(f"#result-run-{alan_run}").get_by_role("button", name="Spotlight")
    click_while_pushed(spotlight)
    projector.locator(f"#spotlight-stage[data-run='{alan_run}']").wait_for()
    assert "alan" in projector.locator(".spotlight-title").inner_text()
    projector.wait_for_function(
        "() => Number(document.querySelector('#loss-canvas')?.getAttribute('data-points')) > 0",
        timeout=30_000,
    )
    screenshot(projector, "classroom-spotlight-alan")

    # a student sees the spotlight too (runs started in the classroom are shared with it)
    ada.goto(f"/classrooms/{classroom_id}/spotlight/")
    ada.locator(f"#spotlight-stage[data-run='{alan_run}']").wait_for()

    # clicking a curve on the overlay opens that run (once both finished: no more pushes)
    teacher.bring_to_front()
    for run_id in (ada_run, alan_run):
        teacher.locator(f"#result-run-{run_id}[data-status='completed']").wait_for(timeout=60_000)
    # scrolled into view inside the page's own poll: a late push may swap the chart for a
    # fresh one between a locator's find and its scroll
    point = teacher.wait_for_function(
        """() => {
            const canvas = document.querySelector('canvas[data-overlay-source]');
            const hit = canvas && canvas._hits && canvas._hits.find(h => h.points.length > 4);
            if (!hit) return null;
            canvas.scrollIntoView({block: "center"});
            const p = hit.points[Math.floor(hit.points.length / 2)];
            const box = canvas.getBoundingClientRect();
            return {x: box.left + p[0], y: box.top + p[1], url: hit.curve.url};
        }"""
    ).json_value()
    # the compact steps ({stride, last}) expand in the page as on the server
    expanded = teacher.evaluate(
        """() => document.querySelector('canvas[data-overlay-source]')._hits
                   .map(h => [h.curve.stride || null, h.curve.last || null, h.curve.steps])"""
    )
    assert expanded and all(stride for stride, _, _ in expanded)
    for stride, last, steps in expanded:
        assert steps == regular_steps(stride, last)
    teacher.mouse.click(point["x"], point["y"])
    teacher.wait_for_url(f"**{point['url']}")
    assert point["url"] in (f"/runs/{ada_run}/", f"/runs/{alan_run}/")

    # comparison of the two runs, ticked in the roster
    teacher.goto(f"/classrooms/{classroom_id}/")
    teacher.get_by_label(f"Compare run {alan_run}").check()
    teacher.get_by_label(f"Compare run {ada_run}").check()
    teacher.get_by_role("button", name="Compare", exact=True).click()
    teacher.wait_for_url(re.compile(r"/runs/compare/\?"))
    heading = teacher.get_by_role("heading", name=re.compile(r"^Comparing run \d+ and run \d+$"))
    assert heading.is_visible() and f"run {ada_run}" in heading.inner_text()
    # the attention maps carry the characters along their axes (ink in the top margin,
    # right of the first cell: without labels that strip is the masked future's grey)
    axis_ink = """(canvas) => {
        const strip = canvas.getContext("2d").getImageData(
            Math.floor(canvas.width / 4), 0, Math.floor(canvas.width * 3 / 4), 6).data;
        let ink = 0;
        for (let i = 0; i < strip.length; i += 4) if (strip[i + 3] > 0 && strip[i] < 200) ink++;
        return ink;
    }"""
    # a built-in pack: beside the template share, how many samples are also right sums
    also_correct = re.compile(r"of 20 follow the template · \d+ also correct")
    assert teacher.get_by_text(also_correct).count() == 2
    maps = teacher.locator(".attention canvas.heatmap[data-drawn]")
    maps.first.wait_for()
    assert maps.count() == 2
    assert all(maps.nth(i).evaluate(axis_ink) > 0 for i in range(2))
    screenshot(teacher, "classroom-compare")

    # the instructor removes a student from the live panel (the roster came over the socket)
    teacher.goto(f"/classrooms/{classroom_id}/")
    teacher.once("dialog", lambda dialog: dialog.accept())
    teacher.locator("tr[data-student='alan']").get_by_role("button", name="Remove").click()
    teacher.locator("tr[data-student='alan']").wait_for(state="detached")
    assert teacher.locator("tr[data-student='ada']").count() == 1
    alan.goto(f"/classrooms/{classroom_id}/")
    assert alan.locator("h1").inner_text() != "Tuesday lesson"  # no longer his classroom
