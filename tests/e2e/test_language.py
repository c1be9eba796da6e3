"""The language switch: the web app changes language at once, and the server's login page follows
it (the `django_language` cookie); the login page's own switch carries back into the app."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.steps import login_page_url, shoot
from tests.support.live_server import LiveServer


def _language_cookie(page: Page) -> str | None:
    for cookie in page.context.cookies():
        if cookie["name"] == "django_language":
            return cookie["value"]
    return None


def test_switching_to_english_changes_the_app_and_the_server_login_page(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    page.goto(f"{yunyi_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("在家复诊，安心用药")
    expect(page.get_by_test_id("header-signin")).to_have_text("登录")
    assert _language_cookie(page) is None

    page.get_by_test_id("language-en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Follow-up care from home")
    expect(page.get_by_test_id("header-signin")).to_have_text("Sign in")
    expect(page.get_by_test_id("header-register")).to_have_text("Register")
    expect(page.get_by_test_id("language-en")).to_have_attribute("aria-pressed", "true")
    assert _language_cookie(page) == "en"
    shoot(page, screenshot_dir, "home-en.png")

    # The server's login page is in English too.
    page.get_by_test_id("header-signin").click()
    expect(page).to_have_url(login_page_url(yunyi_server))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("label[for=id_identifier]")).to_have_text(
        "Username, mobile number or e-mail"
    )
    expect(page.locator("form button[type=submit]")).to_have_text("Sign in")
    shoot(page, screenshot_dir, "login-en.png")

    # Back to Chinese on the login page: the sign-in continues where it was going...
    page.get_by_role("link", name="简体中文").click()
    expect(page).to_have_url(login_page_url(yunyi_server))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("登录")
    assert _language_cookie(page) == "zh-hans"

    # ...and the app follows the server's choice.
    page.goto(f"{yunyi_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_test_id("header-signin")).to_have_text("登录")
    expect(page.get_by_test_id("language-zh-CN")).to_have_attribute("aria-pressed", "true")
