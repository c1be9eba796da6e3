"""A doctor signs in with password and the TOTP second step through the server's login page, gets
the doctor's navigation, and signs out."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.steps import LOGIN_PATH, shoot, sign_out, submit_password, submit_totp
from tests.support.live_server import LiveServer
from yunyi.accounts.management.commands.demo import DEMO_PASSWORD

# The secret published in the README's demo section (what a person trying the demo would use).
DOCTOR1_TOTP_SECRET = "MRXWG5DPOIYUA6LVNZ4WSLLEMVWW6LRO"


def test_doctor_signs_in_with_password_and_totp_and_signs_out(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    page.goto(f"{yunyi_server.url}/")
    page.get_by_test_id("header-signin").click()
    submit_password(page, identifier="doctor1", password=DEMO_PASSWORD)

    # The password alone does not sign a doctor in: the TOTP step comes first.
    expect(page).to_have_url(LOGIN_PATH)
    expect(page.locator("h1")).to_have_text("两步验证")
    expect(page.locator("input[name=code]")).to_be_visible()
    shoot(page, screenshot_dir, "login-totp.png")
    submit_totp(page, secret_base32=DOCTOR1_TOTP_SECRET)

    expect(page).to_have_url(f"{yunyi_server.url}/")
    expect(page.get_by_test_id("user-menu-name")).to_have_text("张医生")
    expect(page.get_by_test_id("home-welcome")).to_have_text("您好，张医生")
    expect(page.get_by_test_id("home-role-doctor")).to_contain_text("医生工作台")
    expect(page.get_by_test_id("nav-workbench")).to_contain_text("工作台")
    expect(page.get_by_test_id("nav-records")).to_have_count(0)
    expect(page.get_by_test_id("home-role-patient")).to_have_count(0)
    shoot(page, screenshot_dir, "doctor-home.png")

    sign_out(page)
    expect(page).to_have_url(f"{yunyi_server.url}/")
    expect(page.get_by_test_id("home-guest")).to_be_visible()
    expect(page.get_by_test_id("main-nav")).to_have_count(0)
