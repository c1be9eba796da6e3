"""Matching in the browser: a patient finds a doctor and sees why each ranks where it does; an
operator runs tomorrow's home-visit assignment and sees it beside the greedy baseline, on a map."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.steps import shoot, submit_password, submit_totp
from tests.support.live_server import LiveServer
from yunyi.accounts.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRETS


def test_patient_finds_a_doctor_with_reasons(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    page.goto(f"{yunyi_server.url}/find-doctor?department=endocrinology")
    submit_password(page, identifier="patient1", password=DEMO_PASSWORD)

    expect(page).to_have_url(re.compile(r"/find-doctor\?department=endocrinology$"))
    results = page.get_by_test_id("find-result")
    expect(results.first).to_be_visible()
    # zh-CN by default, for a video consultation availability first and distance last:
    # "最早 14:30 可约 · ... · 12.3 公里" or "在线 · 约等 5 分钟 · ... · 12.3 公里".
    expect(results.first.get_by_test_id("find-reasons")).to_have_text(
        re.compile(r"^(最早 .+ 可约|在线 · (约等 \d+ 分钟|无需等待))( · .+)? · \d+\.\d 公里$")
    )
    expect(results.first.get_by_test_id("find-result-link")).to_have_attribute(
        "href", re.compile(r"^/doctors/[0-9a-f-]{36}$")
    )
    expect(page.get_by_test_id("find-map").locator("canvas").first).to_be_visible()
    shoot(page, screenshot_dir, "find-doctor.png", full_page=True)

    page.get_by_test_id("find-mode").click()
    page.get_by_role("option", name="上门服务").click()
    page.get_by_test_id("find-search").click()
    expect(
        page.get_by_test_id("find-result").or_(page.get_by_test_id("find-empty")).first
    ).to_be_visible()


def test_operator_runs_the_home_visit_assignment(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    page.goto(f"{yunyi_server.url}/operations/assignment")
    submit_password(page, identifier="operator1", password=DEMO_PASSWORD)
    submit_totp(page, secret_base32=DEMO_TOTP_SECRETS["operator1"])

    expect(page).to_have_url(f"{yunyi_server.url}/operations/assignment")
    page.get_by_test_id("assignment-run").click()

    summary = page.get_by_test_id("assignment-summary")
    expect(summary).to_contain_text("请求: 100")
    expect(page.get_by_test_id("assignment-over-capacity")).to_contain_text(": 0")
    totals = page.get_by_test_id("assignment-totals")
    expect(totals).to_contain_text("最小费用流")
    expect(totals).to_contain_text("就近贪心")
    expect(page.get_by_test_id("assignment-map").locator("canvas").first).to_be_visible()
    shoot(page, screenshot_dir, "home-visit-assignment.png", full_page=True)

    page.goto(f"{yunyi_server.url}/operations/regions")
    expect(page.get_by_test_id("regions-summary")).to_contain_text("K = ")
    expect(page.get_by_test_id("regions-map").locator("canvas").first).to_be_visible()
    shoot(page, screenshot_dir, "service-regions.png", full_page=True)
