"""`/api/v1/diagnosis/suggestions`: suggestions from the record (read through the emr as the
doctor), written back as RiskAssessments, and refusals of bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.diagnosis.record_helpers import (
    SYSTEM,
    grant,
    make_patient,
    observation,
    pima_patient,
)
from yunyi.audit.models import AuditEntry
from yunyi.diagnosis.models import SuggestionFeedback
from yunyi.emr.services import record_search

URL = "/api/v1/diagnosis/suggestions"
PIMA_EXPLICIT = {
    "pregnancies": {"value": 2},
    "glucose_2h_ogtt": {"value": 9.0, "unit": "mmol/L"},
    "diastolic_bp": {"value": 82},
    "triceps_skinfold": {"value": 29},
    "bmi": {"value": 31.5},
    "diabetes_pedigree": {"value": 0.45},
    "age": {"value": 40},
}


def _by_task(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["task"]: entry for entry in body["suggestions"]}


def _risk_assessments(patient_id: str) -> list[dict[str, Any]]:
    found = record_search(
        actor=SYSTEM, resource_type="RiskAssessment", params=[("patient", f"Patient/{patient_id}")]
    )
    return [r.resource for r in found.page.resources if r.resource]


def test_doctor_gets_pima_suggestion_from_the_newest_observations(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    response = api_client_for(case.doctor).get(URL, {"patient": case.patient_id})
    assert response.status_code == 200, response.content
    pima = _by_task(response.json())["pima_diabetes"]
    assert pima["status"] == "ok"
    assert 0 <= pima["probability"] <= 1
    assert pima["risk_band"] in ("low", "intermediate", "high")
    used = {entry["input"]: entry for entry in pima["inputs_used"]}
    assert used["bmi"]["value"] == 31.5 and used["bmi"]["effective"] == "2024-03-02"
    assert used["glucose_2h_ogtt"]["value"] == 162.0
    assert used["diastolic_bp"]["value"] == 82.0  # from the blood-pressure panel's component
    assert used["age"] == {**used["age"], "value": 40.0, "source": f"Patient/{case.patient_id}"}
    for name, observation_id in case.sources.items():
        assert used[name]["source"] == f"Observation/{observation_id}"
    assert len(pima["contributions"]) == 3
    assert set(pima["performance"]) == {"auroc", "sensitivity", "specificity"}
    assert pima["performance"]["auroc"]["low"] <= pima["performance"]["auroc"]["value"]
    assert pima["outside_population"] is False
    assert pima["decision"] == "pending"


def test_suggestion_converts_units_read_from_the_record(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user, glucose_unit="mmol/L")
    body = api_client_for(case.doctor).get(URL, {"patient": case.patient_id}).json()
    used = {e["input"]: e for e in _by_task(body)["pima_diabetes"]["inputs_used"]}
    assert used["glucose_2h_ogtt"]["given_unit"] == "mmol/L"
    assert used["glucose_2h_ogtt"]["value"] == pytest.approx(9.0 * 18.016, abs=1e-3)


def test_missing_inputs_are_named_never_guessed(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    body = api_client_for(case.doctor).get(URL, {"patient": case.patient_id}).json()
    pbc = _by_task(body)["pbc_mortality"]
    assert pbc["status"] == "missing_inputs"
    assert pbc["probability"] is None and pbc["id"] is None
    assert [m["input"] for m in pbc["missing"]] == ["bilirubin", "albumin", "prothrombin_time"]
    assert pbc["missing"][0]["loinc"] == "1975-2"
    wdbc = _by_task(body)["wdbc_malignancy"]
    assert len(wdbc["missing"]) == 30
    assert wdbc["missing"][0]["system"] == "urn:yunyi:diagnosis-input"


def test_shown_suggestion_is_written_to_the_record_once(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    client = api_client_for(case.doctor)
    first = _by_task(client.get(URL, {"patient": case.patient_id}).json())["pima_diabetes"]
    again = _by_task(client.get(URL, {"patient": case.patient_id}).json())["pima_diabetes"]
    assert first["id"] == again["id"]
    (assessment,) = _risk_assessments(case.patient_id)
    assert assessment["id"] == first["id"]
    assert assessment["status"] == "preliminary"
    assert assessment["subject"] == {"reference": f"Patient/{case.patient_id}"}
    assert assessment["method"]["coding"][0]["code"] == "pima_diabetes"
    assert assessment["method"]["coding"][0]["version"] == first["model"]["version"]
    basis = {b["reference"] for b in assessment["basis"]}
    assert basis == {f"Observation/{i}" for i in case.sources.values()} | {
        f"Patient/{case.patient_id}"
    }
    prediction = assessment["prediction"][0]
    assert prediction["probabilityDecimal"] == first["probability"]
    assert prediction["qualitativeRisk"]["coding"][0]["code"] in ("low", "moderate", "high")
    assert "not a diagnosis" in assessment["note"][0]["text"]
    row = SuggestionFeedback.objects.get()
    assert (row.risk_assessment_id, row.doctor, row.decision) == (
        first["id"],
        case.doctor,
        "pending",
    )
    create = AuditEntry.objects.filter(action="fhir.create", object_type="RiskAssessment")
    assert list(create.values_list("actor_id", flat=True)) == [str(case.doctor.pk)]


def test_newer_observation_gives_a_new_suggestion(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    client = api_client_for(case.doctor)
    first = _by_task(client.get(URL, {"patient": case.patient_id}).json())["pima_diabetes"]
    newer = observation(case.patient_id, code="39156-5", value=35, unit="kg/m2", when="2025-01-01")
    second = _by_task(client.get(URL, {"patient": case.patient_id}).json())["pima_diabetes"]
    assert second["id"] != first["id"]
    used = {e["input"]: e for e in second["inputs_used"]}
    assert used["bmi"]["source"] == f"Observation/{newer}"
    assert len(_risk_assessments(case.patient_id)) == 2


def test_out_of_training_range_is_answered_and_flagged(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    observation(case.patient_id, code="11996-6", value=25, unit="{#}", when="2025-01-01")
    body = api_client_for(case.doctor).get(URL, {"patient": case.patient_id}).json()
    pima = _by_task(body)["pima_diabetes"]
    assert pima["status"] == "ok" and pima["out_of_distribution"] is True
    assert [e["input"] for e in pima["out_of_range"]] == ["pregnancies"]
    (assessment,) = _risk_assessments(case.patient_id)
    assert "Out of distribution" in assessment["note"][1]["text"]


def test_a_man_is_flagged_outside_the_pima_population(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user, female=False)
    body = api_client_for(case.doctor).get(URL, {"patient": case.patient_id}).json()
    assert _by_task(body)["pima_diabetes"]["outside_population"] is True
    # Models that fit the patient come first; the one trained on women only comes last.
    assert [entry["outside_population"] for entry in body["suggestions"]][-1] is True
    assert body["suggestions"][-1]["task"] == "pima_diabetes"


def test_record_value_in_an_unknown_unit_is_refused_for_that_model(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    observation(case.patient_id, code="39156-5", value=30, unit="furlong", when="2025-01-01")
    body = api_client_for(case.doctor).get(URL, {"patient": case.patient_id}).json()
    pima = _by_task(body)["pima_diabetes"]
    assert pima["status"] == "refused"
    assert pima["error"]["code"] == "unknown_unit"
    assert pima["error"]["details"]["input"] == "bmi"
    assert _risk_assessments(case.patient_id) == []


def test_task_parameter_narrows_to_one_model(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    client = api_client_for(case.doctor)
    body = client.get(URL, {"patient": case.patient_id, "task": "pima_diabetes"}).json()
    assert [s["task"] for s in body["suggestions"]] == ["pima_diabetes"]
    unknown = client.get(URL, {"patient": case.patient_id, "task": "tarot"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_task"


def test_doctor_without_care_relationship_is_refused_and_nothing_written(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    stranger = make_user(roles=["doctor"])
    response = api_client_for(stranger).get(URL, {"patient": case.patient_id})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "patient_not_visible"
    assert _risk_assessments(case.patient_id) == []
    assert not SuggestionFeedback.objects.exists()
    denied = AuditEntry.objects.filter(actor_id=str(stranger.pk), outcome="denied")
    assert denied.filter(object_type="Patient").exists()


def test_unknown_patient_is_not_found(registry: Path, make_user: Any, api_client_for: Any) -> None:
    doctor = make_user(roles=["doctor"])
    response = api_client_for(doctor).get(URL, {"patient": "no-such-patient"})
    assert response.status_code in (403, 404)
    assert response.json()["error"]["code"] in ("patient_not_found", "patient_not_visible")


@pytest.mark.parametrize("query", [{}, {"patient": ""}, {"patient": "x" * 65}])
def test_malformed_patient_parameter_is_422(
    registry: Path, make_user: Any, api_client_for: Any, query: dict[str, str]
) -> None:
    doctor = make_user(roles=["doctor"])
    assert api_client_for(doctor).get(URL, query).status_code == 422


def test_patient_is_refused_while_patient_visibility_is_off(
    registry: Path, make_user: Any, api_client_for: Any, settings: Any
) -> None:
    settings.DIAGNOSIS_PATIENT_VISIBLE = False
    case = pima_patient(make_user)
    response = api_client_for(case.patient).get(URL, {"patient": case.patient_id})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "suggestions_hidden_from_patients"


def test_patient_sees_own_suggestions_when_visible_and_nothing_is_written(
    registry: Path, make_user: Any, api_client_for: Any, settings: Any
) -> None:
    settings.DIAGNOSIS_PATIENT_VISIBLE = True
    case = pima_patient(make_user)
    client = api_client_for(case.patient)
    body = client.get(URL, {"patient": case.patient_id}).json()
    pima = _by_task(body)["pima_diabetes"]
    assert pima["status"] == "ok" and pima["id"] is None
    assert _risk_assessments(case.patient_id) == []
    _other, other_id = make_patient(make_user)
    assert client.get(URL, {"patient": other_id}).status_code == 403


@pytest.mark.parametrize("role", ["pharmacist", "admin", "operator"])
def test_other_roles_may_not_ask_for_suggestions(
    registry: Path, make_user: Any, api_client_for: Any, role: str
) -> None:
    user = make_user(roles=[role])
    assert api_client_for(user).get(URL, {"patient": "x"}).status_code == 403
    post = api_client_for(user).post(
        URL, {"task": "pima_diabetes", "inputs": PIMA_EXPLICIT}, content_type="application/json"
    )
    assert post.status_code == 403


def _post(client: Any, body: Any) -> Any:
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_explicit_inputs_give_a_suggestion_without_touching_any_record(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    doctor = make_user(roles=["doctor"])
    response = _post(api_client_for(doctor), {"task": "pima_diabetes", "inputs": PIMA_EXPLICIT})
    assert response.status_code == 200, response.content
    (pima,) = response.json()["suggestions"]
    assert pima["status"] == "ok" and pima["id"] is None
    used = {e["input"]: e for e in pima["inputs_used"]}
    assert used["glucose_2h_ogtt"]["value"] == pytest.approx(162.144)
    assert {e["source"] for e in pima["inputs_used"]} == {"explicit"}
    assert not SuggestionFeedback.objects.exists()


def test_explicit_inputs_complete_the_record_and_are_written(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    _patient, pid = make_patient(make_user)
    doctor = make_user(roles=["doctor"])
    grant(doctor, pid)
    bmi = observation(pid, code="39156-5", value=28, unit="kg/m2", when="2024-05-01")
    explicit = {k: v for k, v in PIMA_EXPLICIT.items() if k not in ("bmi", "age")}
    response = _post(
        api_client_for(doctor), {"task": "pima_diabetes", "patient": pid, "inputs": explicit}
    )
    assert response.status_code == 200, response.content
    (pima,) = response.json()["suggestions"]
    used = {e["input"]: e for e in pima["inputs_used"]}
    assert used["bmi"]["source"] == f"Observation/{bmi}"
    assert used["triceps_skinfold"]["source"] == "explicit"
    (assessment,) = _risk_assessments(pid)
    assert assessment["id"] == pima["id"]
    assert {b["reference"] for b in assessment["basis"]} == {f"Observation/{bmi}", f"Patient/{pid}"}


def _error(response: Any) -> tuple[int, str, Any]:
    body = response.json()["error"]
    return response.status_code, body["code"], body.get("details")


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"bmi": {"value": -3}}, 400, "negative_input", "bmi"),
        ({"bmi": {"value": 900}}, 400, "implausible_input", "bmi"),
        ({"glucose_2h_ogtt": {"value": 9, "unit": "furlong"}}, 400, "unknown_unit", None),
        ({"glucose_2h_ogtt": {"value": 9, "unit": "kg"}}, 400, "unknown_unit", None),
        ({"horoscope": {"value": 1}}, 400, "unknown_input", None),
        ({"bmi": {"value": "31.5"}}, 422, "invalid_request", None),
        ({"bmi": {"value": None}}, 422, "invalid_request", None),
        ({"bmi": {"value": True}}, 422, "invalid_request", None),
        ({"bmi": {"value": 31, "colour": "red"}}, 422, "invalid_request", None),
        ({"bmi": 31.5}, 422, "invalid_request", None),
    ],
)
def test_bad_explicit_inputs_are_refused_with_details(
    registry: Path,
    make_user: Any,
    api_client_for: Any,
    change: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    doctor = make_user(roles=["doctor"])
    response = _post(
        api_client_for(doctor), {"task": "pima_diabetes", "inputs": {**PIMA_EXPLICIT, **change}}
    )
    got_status, got_code, details = _error(response)
    assert (got_status, got_code) == (status, code)
    if field is not None:
        assert details["input"] == field
    if status == 422:
        assert details and details[0]["loc"]


def test_missing_explicit_inputs_are_named(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    doctor = make_user(roles=["doctor"])
    inputs = {k: v for k, v in PIMA_EXPLICIT.items() if k not in ("bmi", "age")}
    status, code, details = _error(
        _post(api_client_for(doctor), {"task": "pima_diabetes", "inputs": inputs})
    )
    assert (status, code, details) == (400, "missing_inputs", {"missing": ["bmi", "age"]})


def test_non_finite_numbers_and_garbage_bodies_are_refused(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    client = api_client_for(make_user(roles=["doctor"]))
    nan = '{"task": "pima_diabetes", "inputs": {"bmi": {"value": NaN}}}'
    assert client.post(URL, nan, content_type="application/json").status_code == 422
    assert client.post(URL, "{not json", content_type="application/json").status_code == 400
    many = {f"x{i}": {"value": 1} for i in range(100)}
    assert _post(client, {"task": "pima_diabetes", "inputs": many}).status_code == 422
    assert _post(client, {"task": "' OR 1=1 --", "inputs": {}}).status_code == 404


def test_model_file_not_matching_its_card_is_refused_not_served(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    (model_file,) = (registry / "pima_diabetes").glob("*/model.skops")
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    response = api_client_for(case.doctor).get(URL, {"patient": case.patient_id})
    assert response.status_code == 200
    pima = _by_task(response.json())["pima_diabetes"]
    assert (pima["status"], pima["error"]["code"]) == ("refused", "model_hash_mismatch")
    assert pima["probability"] is None
    assert _risk_assessments(case.patient_id) == []


def test_bad_explicit_input_with_a_patient_is_400_and_nothing_written(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case = pima_patient(make_user)
    body = {
        "task": "pima_diabetes",
        "patient": case.patient_id,
        "inputs": {"triceps_skinfold": {"value": 29, "unit": "furlong"}},
    }
    status, code, details = _error(_post(api_client_for(case.doctor), body))
    assert (status, code, details["input"]) == (400, "unknown_unit", "triceps_skinfold")
    assert _risk_assessments(case.patient_id) == []
    assert not SuggestionFeedback.objects.exists()
