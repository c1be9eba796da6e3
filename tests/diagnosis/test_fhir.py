"""The RiskAssessment a shown suggestion becomes carries the "decision support for clinicians"
security label, and the one switch `DIAGNOSIS_PATIENT_VISIBLE` decides whether the record hides
that label from patients: off (the default), a patient's FHIR read and $everything never show it,
while the doctor who was shown it still reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import override_settings

from tests.diagnosis.record_helpers import pima_patient
from tests.emr.api_support import user_client
from yunyi.diagnosis.fhir import SECURITY_LABEL, SECURITY_LABEL_CODE, SECURITY_LABEL_SYSTEM

URL = "/api/v1/diagnosis/suggestions"


def _hidden_labels_with(visible: str) -> str:
    """EMR_PATIENT_HIDDEN_SECURITY_LABELS as settings.py derives it from the environment."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'yunyi.config.settings'; "
        "django.setup(); from django.conf import settings; "
        "print(settings.EMR_PATIENT_HIDDEN_SECURITY_LABELS)"
    )
    env = {**os.environ, "YUNYI_ENV": "test", "YUNYI_DIAGNOSIS_PATIENT_VISIBLE": visible}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_one_switch_lists_the_diagnosis_label_unless_patients_may_see_it() -> None:
    assert f"{SECURITY_LABEL_SYSTEM}|{SECURITY_LABEL_CODE}" == SECURITY_LABEL
    assert _hidden_labels_with("false") == repr([SECURITY_LABEL])
    assert _hidden_labels_with("true") == "[]"
    assert settings.DIAGNOSIS_PATIENT_VISIBLE is False
    assert settings.EMR_PATIENT_HIDDEN_SECURITY_LABELS == [SECURITY_LABEL]


def test_a_written_suggestion_is_labelled_and_kept_from_the_patient(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    shown = api_client_for(case.doctor).get(URL, {"patient": case.patient_id}).json()
    (risk_id,) = [s["id"] for s in shown["suggestions"] if s["id"] is not None]

    doctor_read = user_client(case.doctor, scope="user/*.rs").get_fhir(f"RiskAssessment/{risk_id}")
    assert doctor_read.status_code == 200
    assert doctor_read.json()["meta"]["security"] == [
        {
            "system": SECURITY_LABEL_SYSTEM,
            "code": SECURITY_LABEL_CODE,
            "display": "Decision support for clinicians",
        }
    ]

    patient = user_client(case.patient, scope="patient/*.rs")
    assert patient.get_fhir(f"RiskAssessment/{risk_id}").status_code == 404
    everything = patient.get_fhir(f"Patient/{case.patient_id}/$everything").json()
    types = {entry["resource"]["resourceType"] for entry in everything["entry"]}
    assert "RiskAssessment" not in types
    assert "Observation" in types


def test_with_patients_allowed_the_patient_reads_the_suggestion(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    shown = api_client_for(case.doctor).get(URL, {"patient": case.patient_id}).json()
    (risk_id,) = [s["id"] for s in shown["suggestions"] if s["id"] is not None]
    # What settings.py derives when YUNYI_DIAGNOSIS_PATIENT_VISIBLE is on (see the first test).
    with override_settings(DIAGNOSIS_PATIENT_VISIBLE=True, EMR_PATIENT_HIDDEN_SECURITY_LABELS=[]):
        read = user_client(case.patient, scope="patient/*.rs").get_fhir(f"RiskAssessment/{risk_id}")
    assert read.status_code == 200
