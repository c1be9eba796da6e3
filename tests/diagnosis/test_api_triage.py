"""`/api/v1/diagnosis/symptoms` and `/triage`: the catalogue and the urgency for a patient."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from yunyi.diagnosis.triage.choices import DURATIONS
from yunyi.diagnosis.triage.engine import triage_rules

TRIAGE = "/api/v1/diagnosis/triage"


def _triage(client: Any, body: Any) -> Any:
    return client.post(TRIAGE, json.dumps(body), content_type="application/json")


def test_catalogue_has_both_languages_and_the_choices(make_user: Any, api_client_for: Any) -> None:
    client = api_client_for(make_user(roles=["patient"]))
    body = client.get("/api/v1/diagnosis/symptoms").json()
    codes = [s["code"] for s in body["symptoms"]]
    assert codes == [s["code"] for s in triage_rules()["symptoms"]]
    chest = body["symptoms"][codes.index("chest_pain")]
    assert chest["label"] == {"en": "Chest pain or tightness", "zh": "胸痛或胸闷"}
    assert body["durations"][0]["code"] == "under_1_hour"
    assert [s["code"] for s in body["severities"]] == ["mild", "moderate", "severe"]
    assert [u["code"] for u in body["urgencies"]] == [
        "emergency",
        "within_24h",
        "routine",
        "self_care",
    ]


def test_catalogue_needs_sign_in() -> None:
    from django.test import Client

    assert Client().get("/api/v1/diagnosis/symptoms").status_code == 401


def test_duration_bands_end_on_every_rule_threshold() -> None:
    thresholds: set[float] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("duration_hours_at_least", "duration_hours_below"):
                    thresholds.add(float(value))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(triage_rules()["rules"])
    edges = {float(d["hours_from"]) for d in DURATIONS}
    assert thresholds <= edges
    for lower, upper in itertools.pairwise(DURATIONS):
        assert lower["hours_below"] == upper["hours_from"]


def test_red_flag_chest_pain_with_breathlessness_is_an_emergency(
    make_user: Any, api_client_for: Any
) -> None:
    client = api_client_for(make_user(roles=["patient"]))
    response = _triage(
        client,
        {
            "symptoms": [
                {"code": "chest_pain", "duration": "under_1_hour", "severity": "severe"},
                {"code": "shortness_of_breath", "duration": "under_1_hour", "severity": "moderate"},
            ],
            "age": 58,
            "sex": "male",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["urgency"] == "emergency" and body["red_flag"] is True
    assert body["urgency_label"]["zh"].startswith("急症")
    assert body["reasons"][0]["sources"]
    assert all({"code", "label"} <= set(d) for d in body["departments"])
    assert body["departments"][0]["label"]["zh"]


def test_mild_headache_is_self_care_in_neurology(make_user: Any, api_client_for: Any) -> None:
    guardian = api_client_for(make_user(roles=["patient", "guardian"]))
    body = _triage(
        guardian,
        {
            "symptoms": [{"code": "headache", "duration": "under_1_day", "severity": "mild"}],
            "age": 30,
            "sex": "female",
        },
    ).json()
    assert body["urgency"] == "self_care"
    assert [d["code"] for d in body["departments"]] == ["neurology"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"symptoms": [{"code": "werewolf", "duration": "1_2_days", "severity": "mild"},
                       {"code": "vampirism", "duration": "1_2_days", "severity": "mild"}],
          "age": 30, "sex": "male"}, 400, "unknown_symptom"),
        ({"symptoms": [], "age": 30, "sex": "male"}, 400, "no_symptoms"),
        ({"symptoms": [{"code": "headache", "duration": "forever", "severity": "mild"}],
          "age": 30, "sex": "male"}, 400, "unknown_duration"),
        ({"symptoms": [{"code": "headache", "duration": "1_2_days", "severity": "awful"}],
          "age": 30, "sex": "male"}, 400, "invalid_severity"),
        ({"symptoms": [{"code": "headache", "duration": "1_2_days", "severity": "mild"}],
          "age": -1, "sex": "male"}, 400, "invalid_age"),
        ({"symptoms": [{"code": "headache", "duration": "1_2_days", "severity": "mild"}],
          "age": 30, "sex": "robot"}, 400, "invalid_sex"),
        ({"symptoms": [{"code": "headache", "duration": "1_2_days", "severity": "mild"}],
          "age": "30", "sex": "male"}, 422, "invalid_request"),
        ({"symptoms": [{"code": "headache", "duration": "1_2_days", "severity": "mild",
                        "notes": "x"}], "age": 30, "sex": "male"}, 422, "invalid_request"),
        ({"symptoms": [{"code": "headache", "duration": "1_2_days", "severity": "mild"}] * 41,
          "age": 30, "sex": "male"}, 422, "invalid_request"),
    ],
)  # fmt: skip
def test_bad_triage_input_is_refused(
    make_user: Any, api_client_for: Any, body: Any, status: int, code: str
) -> None:
    client = api_client_for(make_user(roles=["patient"]))
    response = _triage(client, body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_unknown_symptoms_are_named(make_user: Any, api_client_for: Any) -> None:
    client = api_client_for(make_user(roles=["patient"]))
    body = {
        "symptoms": [
            {"code": "headache", "duration": "1_2_days", "severity": "mild"},
            {"code": "werewolf", "duration": "1_2_days", "severity": "mild"},
        ],
        "age": 30,
        "sex": "male",
    }
    error = _triage(client, body).json()["error"]
    assert error["details"] == {"symptoms": ["werewolf"]}
