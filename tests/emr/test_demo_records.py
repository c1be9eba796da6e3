"""Demo records: the demo patients get a living chart (Synthea history plus generated vital
signs and lab values over years), visible to them and to the demo doctors, loaded idempotently."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.emr.api_support import BASE, user_client
from tests.emr.conftest import SYNTHEA
from yunyi.emr.demo import demo_records_load
from yunyi.emr.models import ResourceVersion
from yunyi.emr.synthetic import BMI, BODY_WEIGHT, GLUCOSE, HBA1C, HEART_RATE

pytestmark = pytest.mark.django_db

LOINC_CODES = {"85354-9", HEART_RATE[0], BODY_WEIGHT[0], BMI[0], GLUCOSE[0], HBA1C[0]}


def test_demo_records_give_a_multi_year_chart_to_the_patient_and_the_doctor(
    make_user: Any,
) -> None:
    patient = make_user(
        roles=["patient"], real_name={"legal_name": "李明", "birth_date": date(1985, 3, 12)}
    )
    doctor = make_user(roles=["doctor"])
    written = demo_records_load(patients={"patient1": patient}, doctors=[doctor])
    assert written["patient1"] > 200
    client = user_client(patient, scope="patient/*.rs")
    me = client.get(f"{BASE}/Patient/{patient.pk}").json()
    assert me["name"][0]["text"] == "李明"
    assert me["birthDate"] == "1985-03-12"
    vitals = client.get(f"{BASE}/Observation?patient={patient.pk}&_count=1000&_sort=date").json()
    codes = {e["resource"]["code"]["coding"][0]["code"] for e in vitals["entry"]}
    assert codes >= LOINC_CODES
    units = {
        e["resource"]["code"]["coding"][0]["code"]: e["resource"]
        .get("valueQuantity", {})
        .get("code")
        for e in vitals["entry"]
    }
    assert (units[GLUCOSE[0]], units[HBA1C[0]], units[BMI[0]]) == ("mmol/L", "%", "kg/m2")
    dates = [e["resource"]["effectiveDateTime"][:4] for e in vitals["entry"]]
    assert int(dates[-1]) - int(dates[0]) >= 4
    panel = next(
        e["resource"]
        for e in vitals["entry"]
        if e["resource"]["code"]["coding"][0]["code"] == "85354-9"
    )
    assert [c["code"]["coding"][0]["code"] for c in panel["component"]] == ["8480-6", "8462-4"]
    doctor_view = user_client(doctor).get(f"{BASE}/Observation?patient={patient.pk}&_summary=count")
    assert doctor_view.json()["total"] == vitals["total"]
    if SYNTHEA.exists():
        encounters = client.get(f"{BASE}/Encounter?patient={patient.pk}&_summary=count").json()
        assert encounters["total"] > 0


def test_loading_the_demo_records_twice_writes_nothing_new(make_user: Any) -> None:
    patient = make_user(roles=["patient"], real_name=True)
    demo_records_load(patients={"patient2": patient})
    before = ResourceVersion.objects.count()
    assert demo_records_load(patients={"patient2": patient}) == {"patient2": 0}
    assert ResourceVersion.objects.count() == before
