"""The upload page in a real browser: pick a file by keyboard, drop one, see a refusal."""

import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = pytest.mark.browser
# the page does not scroll sideways, and the uploads table fits without its own scrollbar
FITS = """() => {
    const scroller = document.querySelector(".uploads-scroll");
    return document.documentElement.scrollWidth <= window.innerWidth
        && scroller.scrollWidth <= scroller.clientWidth;
}"""
# the focused element and the text of the elements that describe it
FOCUS = """() => {
    const el = document.activeElement;
    const ids = (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    return {id: el.id, invalid: el.getAttribute("aria-invalid"),
            described: ids.map((id) => document.getElementById(id)?.textContent.trim() ?? null)};
}"""
FOCUS_ON_FILE = "() => document.activeElement?.id === 'id_file'"
NAMES = "\n".join(["ada", "alan", "grace", "linus", "ken", "dennis", "barbara", "edsger", "donald"])


def test_upload_by_keyboard_then_drop_then_refusal(page, tmp_path):
    sign_up(page, "uploader")
    page.goto("/packs/upload/")
    assert page.get_by_text("No uploads yet").is_visible()
    screenshot(page, "packs-upload-empty")

    # keyboard: the file input is reachable with Tab, the button with Enter
    path = tmp_path / "names.txt"
    path.write_text(NAMES + "\n")
    file_input = page.locator("#id_file")
    file_input.focus()
    assert page.evaluate("document.activeElement.id") == "id_file"
    file_input.set_input_files(str(path))
    assert "names.txt" in page.locator("[data-dropzone-file]").inner_text()
    page.get_by_role("button", name="Upload", exact=True).press("Enter")
    page.wait_for_url("**/packs/upload/?upload=*")
    assert page.locator("#stat-documents").inner_text() == "9"
    assert page.locator("#stat-characters").inner_text() == str(len(NAMES))
    assert "grace" in page.locator(".upload-preview").inner_text()
    train = page.get_by_role("link", name="Train on this")
    assert "/runs/new/?pack=upload:" in train.get_attribute("href")
    assert page.locator(".uploads-table tbody tr").count() == 1
    screenshot(page, "packs-upload-done")

    # an 800px window: the table wraps to fit, and nothing scrolls sideways
    page.set_viewport_size({"width": 800, "height": 900})
    assert page.evaluate(FITS)
    screenshot(page, "packs-upload-800")
    page.set_viewport_size({"width": 1366, "height": 900})

    # drag and drop: a file dropped on the box fills the input
    page.goto("/packs/upload/")
    page.evaluate(
        """() => {
          const transfer = new DataTransfer();
          const file = new File(["red\\ngreen\\nblue\\n"], "colours.txt", {type: "text/plain"});
          transfer.items.add(file);
          const zone = document.querySelector("[data-dropzone]");
          zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true}));
          zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
        }"""
    )
    assert "colours.txt" in page.locator("[data-dropzone-file]").inner_text()
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url("**/packs/upload/?upload=*")
    assert page.locator("#stat-documents").inner_text() == "3"

    # a refusal: the message is on the form, next to the field, and focus is on the field,
    # which names the message as its description (what a screen reader reads on focus)
    bad = tmp_path / "names.csv"
    bad.write_text("a,b\n")
    page.locator("#id_file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text() == "Only .txt files can be uploaded."
    page.wait_for_function(FOCUS_ON_FILE)  # the page's script moves focus after the swap
    focus = page.evaluate(FOCUS)
    assert focus["id"] == "id_file" and focus["invalid"] == "true"
    assert "Only .txt files can be uploaded." in focus["described"]
    assert None not in focus["described"]  # every id it names is on the page
    screenshot(page, "packs-upload-refused")


@pytest.mark.parametrize("size", [300 * 1024, 200 * 1024 + 500])
def test_oversized_upload_is_refused_with_413(page, tmp_path, size):
    sign_up(page, f"big{size}")
    page.goto("/packs/upload/")
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * size)
    page.locator("#id_file").set_input_files(str(path))
    assert "over 200 KB" in page.locator("[data-dropzone-file]").inner_text()
    with page.expect_response("**/packs/upload/") as response_info:
        page.get_by_role("button", name="Upload", exact=True).click()
    assert response_info.value.status == 413
    assert "larger than 200 KB" in page.get_by_role("alert").inner_text()
    page.wait_for_function(FOCUS_ON_FILE)
    focus = page.evaluate(FOCUS)
    assert focus["id"] == "id_file" and any("larger than 200 KB" in d for d in focus["described"])
    assert page.get_by_text("No uploads yet").is_visible()


def test_instructor_adds_a_custom_pack_in_the_admin(page, lab_server):
    sign_up(page, "teacher")
    lab_server.manage("make_instructor", "teacher")
    page.goto("/admin/packs_app/pack/")
    assert page.get_by_role("link", name="Chess openings").is_visible()
    screenshot(page, "packs-admin-list")
    page.goto("/admin/packs_app/pack/add/")
    page.fill("#id_title", "Haiku lines")
    page.fill("#id_teaches", "Short lines of lowercase words.")
    page.fill("#id_text", "old pond\nfrog leaps in\n<script>x</script>\n")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "script or markup injection" in page.locator(".errorlist").first.inner_text()
    screenshot(page, "packs-admin-refused")
    page.fill("#id_text", "old pond\nfrog leaps in\nwater sound\n")
    page.fill("#id_adherence_pattern", "[a-z ]+")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/packs_app/pack/")
    assert page.locator("#result_list").get_by_role("link", name="Haiku lines").is_visible()
    screenshot(page, "packs-admin-added")
    page.goto("/runs/new/?pack=haiku")
    assert page.locator("body").is_visible()
