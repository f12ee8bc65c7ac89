import pytest

from tests.browser.conftest import screenshot, sign_up

pytestmark = pytest.mark.browser


def test_sign_up_log_out_log_in_and_see_home(page):
    page.goto("/")
    assert page.get_by_role("link", name="Sign up").first.is_visible()
    screenshot(page, "home-anonymous")

    sign_up(page, "hopper")
    assert page.locator(".who").inner_text().startswith("hopper")
    assert page.get_by_text("No runs yet").is_visible()
    screenshot(page, "home-student")

    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.fill("#id_username", "hopper")
    page.fill("#id_password", "a-long-pass-phrase-42")
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    assert page.locator(".who").inner_text().startswith("hopper")
    assert page.locator(".card").count() == 6
