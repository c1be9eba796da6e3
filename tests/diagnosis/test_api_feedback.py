"""Doctors accept or dismiss the suggestions shown to them; admins see acceptance per model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.diagnosis.record_helpers import pima_patient
from yunyi.audit.models import AuditEntry
from yunyi.diagnosis.models import SuggestionFeedback

URL = "/api/v1/diagnosis/suggestions"


def _shown(make_user: Any, api_client_for: Any) -> tuple[Any, Any, str]:
    case = pima_patient(make_user)
    client = api_client_for(case.doctor)
    body = client.get(URL, {"patient": case.patient_id, "task": "pima_diabetes"}).json()
    return case, client, body["suggestions"][0]["id"]


def _feedback(client: Any, suggestion_id: str, body: Any) -> Any:
    return client.post(
        f"{URL}/{suggestion_id}/feedback", json.dumps(body), content_type="application/json"
    )


def test_doctor_dismisses_a_suggestion_with_a_reason_audited(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    case, client, suggestion_id = _shown(make_user, api_client_for)
    response = _feedback(client, suggestion_id, {"decision": "dismissed", "reason": "  OGTT old "})
    assert response.status_code == 200, response.content
    assert response.json()["decision"] == "dismissed"
    row = SuggestionFeedback.objects.get(risk_assessment_id=suggestion_id)
    assert (row.decision, row.reason) == ("dismissed", "OGTT old")
    assert row.decided_at is not None
    (entry,) = AuditEntry.objects.filter(action="diagnosis.suggestion.dismissed")
    assert (entry.actor_id, entry.object_id) == (str(case.doctor.pk), suggestion_id)
    again = client.get(URL, {"patient": case.patient_id, "task": "pima_diabetes"}).json()
    assert again["suggestions"][0]["decision"] == "dismissed"


def test_a_decision_is_final(registry: Path, make_user: Any, api_client_for: Any) -> None:
    _case, client, suggestion_id = _shown(make_user, api_client_for)
    assert _feedback(client, suggestion_id, {"decision": "accepted"}).status_code == 200
    second = _feedback(client, suggestion_id, {"decision": "dismissed"})
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "feedback_already_given"
    assert SuggestionFeedback.objects.get().decision == "accepted"
    assert AuditEntry.objects.filter(action__startswith="diagnosis.suggestion.").count() == 1


def test_another_doctor_cannot_decide(registry: Path, make_user: Any, api_client_for: Any) -> None:
    _case, _client, suggestion_id = _shown(make_user, api_client_for)
    other = api_client_for(make_user(roles=["doctor"]))
    response = _feedback(other, suggestion_id, {"decision": "accepted"})
    assert response.status_code == 404
    assert SuggestionFeedback.objects.get().decision == "pending"
    patient = api_client_for(make_user(roles=["patient"]))
    assert _feedback(patient, suggestion_id, {"decision": "accepted"}).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "maybe"},
        {"decision": "pending"},
        {},
        {"decision": "accepted", "reason": "x" * 501},
        {"decision": "accepted", "extra": 1},
        {"decision": ["accepted"]},
    ],
)
def test_malformed_feedback_is_422_and_changes_nothing(
    registry: Path, make_user: Any, api_client_for: Any, body: dict[str, Any]
) -> None:
    _case, client, suggestion_id = _shown(make_user, api_client_for)
    assert _feedback(client, suggestion_id, body).status_code == 422
    assert SuggestionFeedback.objects.get().decision == "pending"


def test_unknown_suggestion_is_404(registry: Path, make_user: Any, api_client_for: Any) -> None:
    client = api_client_for(make_user(roles=["doctor"]))
    response = _feedback(client, "no-such-id", {"decision": "accepted"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "suggestion_not_found"


def test_admin_sees_acceptance_rate_per_model_version(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    for decision in ("accepted", "dismissed", "accepted", None):
        _case, client, suggestion_id = _shown(make_user, api_client_for)
        if decision:
            assert _feedback(client, suggestion_id, {"decision": decision}).status_code == 200
    admin = api_client_for(make_user(roles=["admin"]))
    (row,) = admin.get("/api/v1/diagnosis/monitoring").json()
    assert row["task"] == "pima_diabetes" and row["is_active"] is True
    assert (row["shown"], row["accepted"], row["dismissed"], row["pending"]) == (4, 2, 1, 1)
    assert row["acceptance_rate"] == pytest.approx(2 / 3, abs=1e-4)
    doctor = api_client_for(make_user(roles=["doctor"]))
    assert doctor.get("/api/v1/diagnosis/monitoring").status_code == 403
