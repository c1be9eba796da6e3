"""Symptom triage: the rules file is consistent, red flags always win, and the clinical
vignettes written from published guidance are triaged correctly."""

from __future__ import annotations

import json
from typing import Any

import pytest

from yunyi.core.errors import ApplicationError
from yunyi.diagnosis.triage.engine import (
    RULES_PATH,
    symptom_catalogue,
    triage_assess,
    triage_rules,
    triage_rules_problems,
)
from yunyi.practitioners.departments import DEPARTMENTS

VIGNETTES = json.loads(RULES_PATH.with_name("vignettes.json").read_text(encoding="utf-8"))[
    "vignettes"
]


def s(code: str, severity: str = "moderate", hours: float = 6) -> dict[str, Any]:
    return {"code": code, "severity": severity, "duration_hours": hours}


def test_rules_file_is_consistent() -> None:
    assert triage_rules_problems(triage_rules()) == []


def test_rules_checker_reports_a_red_flag_that_is_not_an_emergency() -> None:
    rules = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    rules["rules"][0]["urgency"] = "routine"
    rules["rules"][1]["source"] = ["MADE_UP"]
    assert triage_rules_problems(rules) == [
        "RF-CHEST-BREATH: a red flag must be an emergency",
        "RF-CHEST-SEVERE: every rule needs known sources",
    ]


def test_catalogue_names_every_symptom_in_both_languages() -> None:
    catalogue = symptom_catalogue()
    assert len(catalogue) == 49
    assert all(entry["en"] and entry["zh"] for entry in catalogue)
    assert all(entry["department"] in DEPARTMENTS for entry in catalogue)
    assert catalogue[0] == {
        "code": "chest_pain", "en": "Chest pain or tightness", "zh": "胸痛或胸闷",
        "department": "cardiology",
    }  # fmt: skip


def test_vignettes_are_triaged_correctly_at_least_ninety_percent() -> None:
    assert len(VIGNETTES) >= 40
    correct = []
    for vignette in VIGNETTES:
        result = triage_assess(
            symptoms=vignette["symptoms"], age=vignette["age"], sex=vignette["sex"]
        )
        department = vignette.get("expected_department")
        correct.append(
            result.urgency == vignette["expected_urgency"]
            and (department is None or department in result.departments)
        )
    share = sum(correct) / len(correct)
    print(f"triage vignettes: {sum(correct)}/{len(correct)} correct ({share:.0%})")
    assert share >= 0.90


def test_every_emergency_vignette_is_triaged_emergency_with_a_red_flag() -> None:
    emergencies = [v for v in VIGNETTES if v["expected_urgency"] == "emergency"]
    assert len(emergencies) == 23
    for vignette in emergencies:
        result = triage_assess(
            symptoms=vignette["symptoms"], age=vignette["age"], sex=vignette["sex"]
        )
        assert (vignette["id"], result.urgency, result.red_flag) == (
            vignette["id"], "emergency", True,
        )  # fmt: skip


def test_every_red_flag_rule_is_exercised_by_a_vignette() -> None:
    red_flags = {rule["id"] for rule in triage_rules()["rules"] if rule["red_flag"]}
    exercised = {
        rule
        for v in VIGNETTES
        for rule in triage_assess(symptoms=v["symptoms"], age=v["age"], sex=v["sex"]).matched_rules
    }
    assert red_flags - exercised == set()


@pytest.mark.spec("Act FAST", "face, arms, speech")
@pytest.mark.parametrize("sign", ["face_drooping", "arm_weakness", "speech_difficulty"])
def test_any_single_stroke_sign_is_an_emergency_even_when_mild(sign: str) -> None:
    result = triage_assess(symptoms=[s(sign, "mild", 0.5)], age=66, sex="female")
    assert result.urgency == "emergency"
    assert result.red_flag is True
    assert result.departments == ["emergency", "neurology"]
    assert result.reasons[0]["rule"] == "RF-STROKE-FAST"


def test_red_flag_wins_over_mild_symptoms_listed_with_it() -> None:
    result = triage_assess(
        symptoms=[
            s("runny_nose", "mild"),
            s("chest_pain", "mild"),
            s("shortness_of_breath", "mild"),
        ],
        age=50,
        sex="male",
    )
    assert result.urgency == "emergency"
    assert result.matched_rules == ["RF-CHEST-BREATH", "U-CHEST"]
    assert result.reasons[0]["sources"] == [
        "NHS: Heart attack - symptoms (nhs.uk)",
        "NICE CG95: Recent-onset chest pain of suspected cardiac origin",
    ]


def test_children_are_sent_to_paediatrics_instead_of_adult_medical_departments() -> None:
    child = triage_assess(symptoms=[s("cough", "severe", 48)], age=6, sex="female")
    adult = triage_assess(symptoms=[s("cough", "severe", 48)], age=36, sex="female")
    assert (child.urgency, child.departments) == ("routine", ["paediatrics"])
    assert (adult.urgency, adult.departments) == ("routine", ["respiratory"])


def test_without_a_matching_rule_the_symptom_base_urgency_decides() -> None:
    result = triage_assess(symptoms=[s("toothache", "mild", 24)], age=30, sex="male")
    assert result.as_dict() == {
        "urgency": "self_care",
        "red_flag": False,
        "departments": ["stomatology"],
        "reasons": [
            {
                "symptom": "toothache",
                "severity": "mild",
                "en": "Toothache",
                "zh": "牙痛",
                "sources": [],
            }
        ],
        "matched_rules": [],
    }


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"symptoms": []}, "no_symptoms"),
        ({"symptoms": [s("chest_pain"), s("headache_of_doom")]}, "unknown_symptom"),
        ({"symptoms": [s("cough"), s("cough")]}, "duplicate_symptom"),
        ({"symptoms": [s("cough", "unbearable")]}, "invalid_severity"),
        ({"symptoms": [s("cough", "mild", -1)]}, "invalid_duration"),
        ({"symptoms": [{"code": "cough", "severity": "mild", "duration_hours": "2 days"}]},
         "invalid_duration"),
        ({"symptoms": [s("cough")], "age": -1}, "invalid_age"),
        ({"symptoms": [s("cough")], "age": 200}, "invalid_age"),
        ({"symptoms": [s("cough")], "age": "forty"}, "invalid_age"),
        ({"symptoms": [s("cough")], "sex": "x"}, "invalid_sex"),
    ],
)  # fmt: skip
def test_bad_triage_input_is_refused_with_its_code(kwargs: dict[str, Any], code: str) -> None:
    arguments = {"age": 30, "sex": "female", **kwargs}
    with pytest.raises(ApplicationError) as caught:
        triage_assess(**arguments)
    assert caught.value.code == code
    assert caught.value.status == 400


def test_unknown_symptoms_are_listed() -> None:
    with pytest.raises(ApplicationError) as caught:
        triage_assess(symptoms=[s("zzz"), s("aaa"), s("cough")], age=30, sex="male")
    assert caught.value.details == {"symptoms": ["aaa", "zzz"]}
