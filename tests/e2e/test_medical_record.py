"""The medical record in the browser: a patient reads their chart and downloads their record; a
doctor with the patient's consent opens that patient's chart."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.steps import submit_password, submit_totp
from tests.support.live_server import LiveServer
from yunyi.accounts.management.commands.demo import DEMO_PASSWORD

DOCTOR2_TOTP_SECRET = "MRXWG5DPOIZEA6LVNZ4WSLLEMVWW6LRO"


def test_patient_sees_vital_sign_charts_and_timeline_and_downloads_the_record(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    page.goto(f"{yunyi_server.url}/record")
    submit_password(page, identifier="patient1", password=DEMO_PASSWORD)

    expect(page).to_have_url(f"{yunyi_server.url}/record")
    expect(page.get_by_test_id("record-chart-bp")).to_contain_text("血压")
    expect(page.get_by_test_id("record-chart-hba1c")).to_be_visible()
    expect(page.get_by_test_id("record-timeline")).to_be_visible()
    assert page.get_by_test_id("timeline-item").count() > 10

    with page.expect_download() as download_info:
        page.get_by_test_id("record-download").click()
    bundle = json.loads(Path(download_info.value.path()).read_text())
    assert bundle["resourceType"] == "Bundle"
    types = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"Patient", "Observation", "Condition", "Encounter"} <= types
    patients = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert len(patients) == 1


def test_doctor_with_consent_opens_the_patients_chart(
    page: Page, yunyi_server: LiveServer, screenshot_dir: Path
) -> None:
    page.goto(f"{yunyi_server.url}/patients")
    submit_password(page, identifier="doctor2", password=DEMO_PASSWORD)
    submit_totp(page, secret_base32=DOCTOR2_TOTP_SECRET)

    expect(page).to_have_url(f"{yunyi_server.url}/patients")
    expect(page.get_by_test_id("patients-list")).to_be_visible()
    expect(page.get_by_test_id("patients-open")).to_have_count(2)
    page.get_by_test_id("patients-open").first.click()
    expect(page.get_by_test_id("chart-patient-name")).not_to_have_text("")
    expect(page.get_by_test_id("record-chart-bp")).to_be_visible()
    expect(page.get_by_test_id("record-timeline")).to_be_visible()
