"""A wrong password on the server's login page: its error shows, nothing is signed in, and the
right password afterwards still works."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.steps import LOGIN_PATH, login_page_url, shoot, submit_password
from tests.support.live_server import LiveServer
from yunyi.accounts.management.commands.demo import DEMO_PASSWORD


def test_wrong_password_shows_the_error_and_signs_nobody_in(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    page.goto(f"{yunyi_server.url}/")
    page.get_by_test_id("header-signin").click()
    expect(page).to_have_url(login_page_url(yunyi_server))
    submit_password(page, identifier="patient2", password="Not-the-password-1")

    expect(page).to_have_url(LOGIN_PATH)
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.get_by_role("alert")).to_have_text("账号或密码错误。")
    expect(page.locator("input[name=identifier]")).to_have_value("patient2")
    expect(page.locator("input[name=password]")).to_have_value("")
    expect(page.locator("input[name=code]")).to_have_count(0)
    shoot(page, screenshot_dir, "login-error.png")

    # Nobody is signed in: the app still needs a sign-in for a page that needs an account.
    page.goto(f"{yunyi_server.url}/profile")
    expect(page).to_have_url(login_page_url(yunyi_server))
    expect(page.get_by_role("alert")).to_have_count(0)

    # The right password from here signs in and lands where the user was going.
    submit_password(page, identifier="patient2", password=DEMO_PASSWORD)
    expect(page).to_have_url(f"{yunyi_server.url}/profile")
    expect(page.get_by_test_id("user-menu-name")).to_have_text("王芳")
