"""A doctor signs in with TOTP, adds a block to their weekly schedule on "My practice" (the editor
flags a slot length that does not divide the block before anything is sent) and sees it on their
public profile; an administrator verifies a pending licence from "Licence review"."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.steps import LOGIN_PATH, shoot, sign_out, submit_password, submit_totp
from tests.support.live_server import LiveServer
from yunyi.accounts.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRETS

TOTP_STEP_SECONDS = 30


def sign_in(page: Page, server: LiveServer, username: str, path: str) -> None:
    """Open a page that needs an account, then password and TOTP. Another test may have just
    used this account's current code (a code is accepted once), so on a refusal the next time
    step's code is used."""
    page.goto(f"{server.url}{path}")
    submit_password(page, identifier=username, password=DEMO_PASSWORD)
    expect(page.locator("input[name=code]")).to_be_visible()
    submit_totp(page, secret_base32=DEMO_TOTP_SECRETS[username])
    page.wait_for_load_state("networkidle")
    if LOGIN_PATH.search(page.url):
        time.sleep(TOTP_STEP_SECONDS - time.time() % TOTP_STEP_SECONDS + 1)
        submit_totp(page, secret_base32=DEMO_TOTP_SECRETS[username])
    expect(page).to_have_url(f"{server.url}{path}")


def test_doctor_edits_schedule_and_admin_verifies_a_licence(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    sign_in(page, yunyi_server, "doctor2", "/practice")
    expect(page.get_by_test_id("nav-practice")).to_be_visible()
    expect(page.get_by_test_id("licence-status")).to_have_text("已认证")
    expect(page.get_by_test_id("profile-display-name")).to_have_value("王医生")

    rows = page.locator("[data-testid^='schedule-row-']")
    before = rows.count()
    assert before > 0
    shoot(page, screenshot_dir, "practice.png")
    page.get_by_test_id("schedule-add").click()
    expect(rows).to_have_count(before + 1)
    new = before
    page.get_by_test_id(f"schedule-start-{new}").fill("18:00")
    page.get_by_test_id(f"schedule-end-{new}").fill("19:10")
    expect(page.get_by_test_id(f"schedule-problem-{new}")).to_have_text(
        "号源时长必须能整除时段长度"
    )
    expect(page.get_by_test_id("schedule-save")).to_be_disabled()
    page.get_by_test_id(f"schedule-end-{new}").fill("19:30")
    expect(page.get_by_test_id(f"schedule-problem-{new}")).to_have_count(0)
    page.get_by_test_id("schedule-save").scroll_into_view_if_needed()
    shoot(page, screenshot_dir, "practice-schedule.png")
    page.get_by_test_id("schedule-save").click()
    expect(page.get_by_text("排班已保存")).to_be_visible()

    page.reload()
    expect(rows).to_have_count(before + 1)
    expect(page.get_by_test_id(f"schedule-start-{new}")).to_have_value("18:00")

    page.get_by_test_id("practice-public-link").click()
    expect(page).to_have_url(re.compile(r"/doctors/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("doctor-name")).to_have_text("王医生")
    expect(page.get_by_test_id("doctor-fees")).to_contain_text("¥40.00")
    expect(page.locator("[data-testid^='slot-day-']").first).to_be_visible()
    shoot(page, screenshot_dir, "doctor-profile.png", full_page=True)
    sign_out(page)
    expect(page.get_by_test_id("home-guest")).to_be_visible()
    # The server's sign-in session outlives the app's tokens: a new person starts without it.
    page.context.clear_cookies()

    sign_in(page, yunyi_server, "admin", "/licence-review")
    expect(page.get_by_test_id("nav-licence-review")).to_be_visible()
    table = page.get_by_test_id("review-table")
    decide = table.locator("[data-testid^='review-decide-']")
    expect(decide.first).to_be_visible()
    pending = decide.count()
    shoot(page, screenshot_dir, "licence-review.png")
    with page.expect_download() as scan:
        table.get_by_test_id("review-document-0").first.click()
    assert Path(scan.value.path()).read_bytes().startswith(b"%PDF-")
    decide.first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("review-confirm")).to_be_enabled()
    page.get_by_test_id("review-reason").fill("证书信息与卫健委注册系统一致")
    shoot(page, screenshot_dir, "licence-decision.png")
    page.get_by_test_id("review-confirm").click()
    expect(page.get_by_text("已处理：认证通过")).to_be_visible()
    expect(decide).to_have_count(pending - 1)

    page.get_by_test_id("review-status").get_by_text("已认证").click()
    expect(table).to_contain_text("证书信息与卫健委注册系统一致")
