"""Steps the browser tests share: the server's login page, the user menu, screenshots."""

from __future__ import annotations

import re
from base64 import b32decode
from pathlib import Path

from django_otp.oath import totp
from playwright.sync_api import Page, expect

from tests.support.live_server import LiveServer

LOGIN_PATH = re.compile(r"/o/login/")


def login_page_url(server: LiveServer) -> re.Pattern[str]:
    """The server's login page, reached from /o/authorize with `next` pointing back there."""
    return re.compile(re.escape(server.url) + r"/o/login/\?next=(/|%2F)o(/|%2F)authorize(/|%2F)")


def shoot(page: Page, directory: Path, name: str, *, full_page: bool = False) -> None:
    """Save a screenshot once fonts and the page are settled (stable images for the README)."""
    page.evaluate("document.fonts.ready")
    page.screenshot(
        path=str(directory / name), animations="disabled", caret="hide", full_page=full_page
    )


def submit_password(page: Page, *, identifier: str, password: str) -> None:
    """Fill and send the first step of the server's login page."""
    expect(page).to_have_url(LOGIN_PATH)
    page.locator("input[name=identifier]").fill(identifier)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()


def submit_totp(page: Page, *, secret_base32: str) -> None:
    """Fill and send the TOTP step with the current code of the device whose secret is given."""
    code = f"{totp(b32decode(secret_base32)):06d}"
    page.locator("input[name=code]").fill(code)
    page.locator("form button[type=submit]").click()


def sign_out(page: Page) -> None:
    """Through the user menu (its items are rendered into <body> when it opens)."""
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("signout-button").click()
