"""A new patient in the real UI: register by phone with the code the server sent, sign in through
the server's login page, verify the real name, sign out (tokens and server session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.steps import LOGIN_PATH, login_page_url, shoot, sign_out, submit_password
from tests.support.code_outbox import latest_code
from tests.support.live_server import LiveServer
from yunyi.accounts.management.commands.demo import DEMO_USERS
from yunyi.accounts.resident_id import build_resident_id, mask_resident_id

DISPLAY_NAME = "周晓雨"
PASSWORD = "Qing-He-2026!"


# Fixed values keep the README screenshots stable; every session's server has a fresh database.
PHONE = "13912345678"
# Hangzhou, born 1990-06-15, an even sequence: a woman's number no demo account holds.
RESIDENT_ID = build_resident_id(region_code="330106", birth_date=date(1990, 6, 15), sequence=518)


def _with_wrong_check_character(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


def _demo_patient_resident_id() -> str:
    patient1 = next(user for user in DEMO_USERS if user.username == "patient1")
    assert patient1.identity is not None
    return patient1.identity.resident_id


def test_new_patient_registers_verifies_real_name_and_signs_out(
    page: Page, yunyi_server: LiveServer, code_outbox: Path, screenshot_dir: Path
) -> None:
    # Register: the phone number gets a one-time code (read from the server's outbox).
    page.goto(f"{yunyi_server.url}/")
    expect(page.get_by_test_id("home-guest")).to_be_visible()
    shoot(page, screenshot_dir, "home-zh.png")
    page.get_by_test_id("header-register").click()
    expect(page).to_have_url(f"{yunyi_server.url}/register")
    page.get_by_test_id("register-address").fill(PHONE)
    page.get_by_test_id("register-send-code").click()
    expect(page.get_by_test_id("register-code-sent")).to_contain_text(PHONE)
    code = latest_code(code_outbox, address=PHONE)
    assert len(code) == 6 and code.isdigit()
    page.get_by_test_id("register-code").fill(code)
    page.get_by_test_id("register-display-name").fill(DISPLAY_NAME)
    page.get_by_test_id("register-password").fill(PASSWORD)
    page.get_by_test_id("register-password-confirm").fill(PASSWORD)
    shoot(page, screenshot_dir, "register.png")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("register-success")).to_contain_text(PHONE)
    expect(page.get_by_test_id("register-error")).to_have_count(0)
    shoot(page, screenshot_dir, "register-success.png")

    # Sign in through the server's own login page (Chinese by default), back to the profile.
    page.get_by_test_id("register-signin").click()
    expect(page).to_have_url(login_page_url(yunyi_server))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("登录")
    shoot(page, screenshot_dir, "login-zh.png")
    submit_password(page, identifier=PHONE, password=PASSWORD)
    expect(page).to_have_url(f"{yunyi_server.url}/profile")
    expect(page.get_by_test_id("user-menu-name")).to_have_text(DISPLAY_NAME)
    expect(page.get_by_test_id("profile-username")).to_have_text(PHONE)
    expect(page.get_by_test_id("realname-status")).to_have_text("未认证")

    # A number with a wrong check character is refused before anything is sent.
    sent: list[str] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.method) if request.url.endswith("/api/v1/me/real-name") else None
        ),
    )
    page.get_by_test_id("realname-legal-name").fill(DISPLAY_NAME)
    page.get_by_test_id("realname-resident-id").fill(_with_wrong_check_character(RESIDENT_ID))
    page.get_by_test_id("realname-submit").click()
    expect(page.get_by_test_id("realname-resident-id-error")).to_have_text(
        "身份证号校验码不正确，请核对"
    )
    expect(page.get_by_test_id("realname-status")).to_have_text("未认证")
    assert sent == []
    shoot(page, screenshot_dir, "profile-invalid-id.png")

    # A well-formed number that belongs to someone else is refused by the server.
    page.get_by_test_id("realname-resident-id").fill(_demo_patient_resident_id())
    page.get_by_test_id("realname-submit").click()
    error = page.get_by_test_id("realname-error")
    expect(error).to_have_attribute("data-code", "resident_id_taken")
    expect(error).to_contain_text("该身份证号已被其他账号登记。")
    expect(page.get_by_test_id("realname-status")).to_have_text("未认证")
    expect(page.get_by_test_id("realname-masked-id")).to_have_count(0)
    assert sent == ["POST"]

    # A valid number of one's own: verified, and only the masked number is ever shown.
    page.get_by_test_id("realname-resident-id").fill(RESIDENT_ID)
    page.get_by_test_id("realname-submit").click()
    expect(page.get_by_test_id("realname-masked-id")).to_have_text(mask_resident_id(RESIDENT_ID))
    expect(page.get_by_test_id("realname-status")).to_have_text("已认证")
    result = page.get_by_test_id("realname-result")
    expect(result).to_contain_text(DISPLAY_NAME)
    expect(result).to_contain_text("1990-06-15")
    expect(result).to_contain_text("女")
    expect(page.get_by_text(RESIDENT_ID)).to_have_count(0)
    shoot(page, screenshot_dir, "profile-verified.png", full_page=True)

    # A brand-new patient's record is empty, and says so (not "missing").
    page.get_by_test_id("nav-records").click()
    expect(page.get_by_test_id("record-empty")).to_contain_text("您的档案还是空的")

    # Sign out: back home as a guest, and the server session is gone too.
    sign_out(page)
    expect(page).to_have_url(f"{yunyi_server.url}/")
    expect(page.get_by_test_id("home-guest")).to_be_visible()
    expect(page.get_by_test_id("user-menu")).to_have_count(0)
    page.goto(f"{yunyi_server.url}/profile")
    expect(page).to_have_url(LOGIN_PATH)
    expect(page.locator("input[name=identifier]")).to_be_visible()
