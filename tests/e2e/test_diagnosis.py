"""Diagnosis in the browser: a patient's symptom check ends in "Find a doctor" in the suggested
department; a doctor sees the models' suggestions in a patient's chart and dismisses one; an
admin reads the model registry."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.steps import shoot, submit_password, submit_totp
from tests.support.live_server import LiveServer
from yunyi.accounts.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRETS


def test_patient_symptom_check_leads_to_find_a_doctor(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    page.goto(f"{yunyi_server.url}/symptom-check")
    submit_password(page, identifier="patient1", password=DEMO_PASSWORD)

    expect(page).to_have_url(f"{yunyi_server.url}/symptom-check")
    page.get_by_test_id("symptom-headache").click()
    expect(page.get_by_test_id("chosen-headache")).to_be_visible()
    page.get_by_test_id("severity-headache").click()
    page.get_by_role("option", name="轻度").click()
    page.get_by_test_id("symptom-submit").click()

    result = page.get_by_test_id("triage-result")
    expect(result).to_have_attribute("data-urgency", "self_care")
    expect(result.get_by_test_id("department-neurology")).to_have_text("神经内科")
    link = result.get_by_test_id("find-doctor")
    expect(link).to_have_attribute("href", "/find-doctor?department=neurology")
    shoot(page, screenshot_dir, "symptom-check.png", full_page=True)
    link.click()
    expect(page).to_have_url(re.compile(r"/find-doctor\?department=neurology$"))


def test_doctor_sees_suggestions_in_the_chart_and_dismisses_one(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    page.goto(f"{yunyi_server.url}/patients")
    submit_password(page, identifier="doctor1", password=DEMO_PASSWORD)
    submit_totp(page, secret_base32=DEMO_TOTP_SECRETS["doctor1"])

    expect(page.get_by_test_id("patients-list")).to_be_visible()
    page.get_by_test_id("patients-open").filter(has_text="王芳").click()
    panel = page.get_by_test_id("suggestions-panel")
    pima = panel.get_by_test_id("suggestion-pima_diabetes")
    expect(pima).to_have_attribute("data-status", "ok")
    expect(pima.get_by_test_id("suggestion-probability")).to_contain_text("%")
    expect(pima.get_by_test_id("suggestion-performance")).to_contain_text(
        re.compile(r"AUROC 0\.\d\d \(0\.\d\d–[01]\.\d\d\)")
    )
    expect(pima.locator("td[title^='Observation/']").first).to_have_text("检查/检验结果")
    missing = panel.get_by_test_id("suggestion-pbc_mortality").get_by_test_id("suggestion-missing")
    expect(missing).to_contain_text("LOINC 1975-2")
    shoot(page, screenshot_dir, "diagnosis-suggestions.png", full_page=True)

    pima.get_by_test_id("suggestion-reason").fill("OGTT repeated next week")
    pima.get_by_test_id("suggestion-dismiss").click()
    expect(pima.get_by_test_id("suggestion-decision")).to_have_text("已忽略")
    expect(pima.get_by_test_id("suggestion-dismiss")).to_have_count(0)

    page.reload()
    expect(
        page.get_by_test_id("suggestion-pima_diabetes").get_by_test_id("suggestion-decision")
    ).to_have_text("已忽略")


def test_admin_reads_the_model_registry(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    page.goto(f"{yunyi_server.url}/model-registry")
    submit_password(page, identifier="admin", password=DEMO_PASSWORD)
    submit_totp(page, secret_base32=DEMO_TOTP_SECRETS["admin"])

    pima = page.get_by_test_id("registry-pima_diabetes")
    expect(pima.get_by_test_id("version-active")).to_have_count(1)
    expect(pima).to_contain_text("Ripley")
    expect(pima.locator("img[data-testid$='-roc']")).to_be_visible()
    expect(pima.locator("img[data-testid$='-calibration']")).to_be_visible()
    shoot(page, screenshot_dir, "model-registry.png", full_page=True)
