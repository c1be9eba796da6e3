"""Symptom triage: an urgency level, the reason and the departments to see, from the reviewed
rules in `rules.json` (data, each rule with its source) and the patient's symptoms, age and sex.

Decision: every rule whose conditions hold proposes its urgency; every symptom proposes its own
base urgency for the severity given; the most urgent proposal wins, so a red flag (always
`emergency`) beats everything. The reasons and departments are those of the winning rules (or,
when no rule reached that level, of the symptoms that did).

Rule conditions (`when`): all of `all`, at least one of `any`, and at least one of `also_any`.
A condition tests one symptom (`symptom`, with optional `severity_at_least`,
`duration_hours_at_least`, `duration_hours_below`, `with_symptom`) and/or the patient
(`age_below`, `age_at_least` in years, `sex`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from yunyi.diagnosis.errors import DiagnosisErrorCode, diagnosis_error
from yunyi.practitioners.departments import DEPARTMENTS

RULES_PATH: Final = Path(__file__).with_name("rules.json")
URGENCIES: Final = ("emergency", "within_24h", "routine", "self_care")
SEVERITIES: Final = ("mild", "moderate", "severe")
SEXES: Final = ("female", "male", "unknown")
_CONDITION_KEYS: Final = frozenset(
    {
        "symptom",
        "severity_at_least",
        "duration_hours_at_least",
        "duration_hours_below",
        "with_symptom",
        "age_below",
        "age_at_least",
        "sex",
    }
)
MAX_DURATION_HOURS: Final = 24 * 365 * 100


@dataclass(frozen=True)
class Symptom:
    code: str
    severity: str
    duration_hours: float


@dataclass(frozen=True)
class TriageResult:
    urgency: str
    red_flag: bool
    departments: list[str]
    reasons: list[dict[str, Any]]  # {"rule", "en", "zh", "sources"} or {"symptom", ...}
    matched_rules: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "urgency": self.urgency,
            "red_flag": self.red_flag,
            "departments": self.departments,
            "reasons": self.reasons,
            "matched_rules": self.matched_rules,
        }


@lru_cache(maxsize=1)
def triage_rules() -> dict[str, Any]:
    """The rules file, checked for consistency once per process (see `triage_rules_problems`)."""
    rules: dict[str, Any] = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    problems = triage_rules_problems(rules)
    if problems:
        raise ValueError(f"{RULES_PATH.name}: {'; '.join(problems)}")
    return rules


def triage_rules_problems(rules: Mapping[str, Any]) -> list[str]:
    """Everything in a rules document that does not fit its schema."""
    problems: list[str] = []
    codes = {symptom["code"] for symptom in rules["symptoms"]}
    sources = set(rules["sources"])
    for symptom in rules["symptoms"]:
        if symptom["department"] not in DEPARTMENTS:
            problems.append(f"{symptom['code']}: unknown department {symptom['department']}")
        if set(symptom["base"]) != set(SEVERITIES) or not set(symptom["base"].values()) <= set(
            URGENCIES
        ):
            problems.append(f"{symptom['code']}: base must map every severity to an urgency")
    seen: set[str] = set()
    for rule in rules["rules"]:
        rid = rule["id"]
        if rid in seen:
            problems.append(f"{rid}: duplicate id")
        seen.add(rid)
        if rule["urgency"] not in URGENCIES:
            problems.append(f"{rid}: unknown urgency")
        if rule["red_flag"] and rule["urgency"] != "emergency":
            problems.append(f"{rid}: a red flag must be an emergency")
        if not rule["source"] or not set(rule["source"]) <= sources:
            problems.append(f"{rid}: every rule needs known sources")
        if not set(rule["departments"]) <= set(DEPARTMENTS):
            problems.append(f"{rid}: unknown department")
        if not rule["reason"].get("en") or not rule["reason"].get("zh"):
            problems.append(f"{rid}: reason needs en and zh")
        groups = rule["when"]
        if not set(groups) <= {"all", "any", "also_any"} or not groups:
            problems.append(f"{rid}: 'when' takes all, any, also_any")
        for condition in (c for group in groups.values() for c in group):
            if not set(condition) <= _CONDITION_KEYS:
                problems.append(
                    f"{rid}: unknown condition key {sorted(set(condition) - _CONDITION_KEYS)}"
                )
            for key in ("symptom", "with_symptom"):
                if key in condition and condition[key] not in codes:
                    problems.append(f"{rid}: unknown symptom {condition[key]}")
    return problems


def _age(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise diagnosis_error(DiagnosisErrorCode.INVALID_AGE, details={"age": repr(value)})
    if not 0 <= value <= 130:
        raise diagnosis_error(DiagnosisErrorCode.INVALID_AGE, details={"age": value})
    return float(value)


def symptoms_parse(raw: Sequence[Mapping[str, Any]]) -> list[Symptom]:
    """Checked symptoms from `[{"code", "severity", "duration_hours"}]`."""
    if not raw:
        raise diagnosis_error(DiagnosisErrorCode.NO_SYMPTOMS)
    catalogue = {symptom["code"] for symptom in triage_rules()["symptoms"]}
    unknown = sorted({str(item.get("code")) for item in raw} - catalogue)
    if unknown:
        raise diagnosis_error(DiagnosisErrorCode.UNKNOWN_SYMPTOM, details={"symptoms": unknown})
    parsed: list[Symptom] = []
    for item in raw:
        code = str(item["code"])
        if any(s.code == code for s in parsed):
            raise diagnosis_error(DiagnosisErrorCode.DUPLICATE_SYMPTOM, details={"symptom": code})
        severity = item.get("severity")
        if severity not in SEVERITIES:
            raise diagnosis_error(
                DiagnosisErrorCode.INVALID_SEVERITY,
                details={"symptom": code, "severity": repr(severity)},
            )
        hours = item.get("duration_hours")
        if (
            isinstance(hours, bool)
            or not isinstance(hours, int | float)
            or not math.isfinite(hours)
            or not 0 <= hours <= MAX_DURATION_HOURS
        ):
            raise diagnosis_error(
                DiagnosisErrorCode.INVALID_DURATION,
                details={"symptom": code, "duration_hours": repr(hours)},
            )
        parsed.append(Symptom(code=code, severity=str(severity), duration_hours=float(hours)))
    return parsed


def _holds(
    condition: Mapping[str, Any], symptoms: dict[str, Symptom], age: float, sex: str
) -> bool:
    if "age_below" in condition and not age < condition["age_below"]:
        return False
    if "age_at_least" in condition and not age >= condition["age_at_least"]:
        return False
    if "sex" in condition and sex != condition["sex"]:
        return False
    if "with_symptom" in condition and condition["with_symptom"] not in symptoms:
        return False
    if "symptom" not in condition:
        return True
    symptom = symptoms.get(condition["symptom"])
    if symptom is None:
        return False
    if "severity_at_least" in condition and SEVERITIES.index(symptom.severity) < SEVERITIES.index(
        condition["severity_at_least"]
    ):
        return False
    if (
        "duration_hours_at_least" in condition
        and symptom.duration_hours < condition["duration_hours_at_least"]
    ):
        return False
    return not (
        "duration_hours_below" in condition
        and symptom.duration_hours >= condition["duration_hours_below"]
    )


def _matches(rule: Mapping[str, Any], symptoms: dict[str, Symptom], age: float, sex: str) -> bool:
    when = rule["when"]
    if not all(_holds(c, symptoms, age, sex) for c in when.get("all", ())):
        return False
    return all(
        any(_holds(c, symptoms, age, sex) for c in when[group])
        for group in ("any", "also_any")
        if group in when
    )


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def triage_assess(*, symptoms: Sequence[Mapping[str, Any]], age: Any, sex: str) -> TriageResult:
    """Urgency, reasons and departments for one patient (see the module docstring)."""
    rules = triage_rules()
    years = _age(age)
    if sex not in SEXES:
        raise diagnosis_error(DiagnosisErrorCode.INVALID_SEX, details={"sex": repr(sex)})
    present = {s.code: s for s in symptoms_parse(symptoms)}
    catalogue = {entry["code"]: entry for entry in rules["symptoms"]}

    matched = [rule for rule in rules["rules"] if _matches(rule, present, years, sex)]
    proposals = [rule["urgency"] for rule in matched] + [
        catalogue[code]["base"][symptom.severity] for code, symptom in present.items()
    ]
    urgency = min(proposals, key=URGENCIES.index)
    deciding = [rule for rule in matched if rule["urgency"] == urgency]
    if deciding:
        reasons = [
            {"rule": r["id"], "en": r["reason"]["en"], "zh": r["reason"]["zh"],
             "sources": [rules["sources"][s] for s in r["source"]]}
            for r in deciding
        ]  # fmt: skip
        departments = _unique([d for rule in deciding for d in rule["departments"]])
    else:
        by_base = [
            code for code, s in present.items() if catalogue[code]["base"][s.severity] == urgency
        ]
        reasons = [
            {"symptom": code, "severity": present[code].severity,
             "en": catalogue[code]["en"], "zh": catalogue[code]["zh"], "sources": []}
            for code in by_base
        ]  # fmt: skip
        departments = _unique([catalogue[code]["department"] for code in by_base])
    paediatric = rules["paediatric"]
    if years < paediatric["age_below"]:
        departments = _unique(
            ["paediatrics" if d in paediatric["replaces"] else d for d in departments]
        )
    return TriageResult(
        urgency=urgency,
        red_flag=any(rule["red_flag"] for rule in deciding),
        departments=departments,
        reasons=reasons,
        matched_rules=[rule["id"] for rule in matched],
    )


def symptom_catalogue() -> list[dict[str, str]]:
    """The symptoms a patient can pick, in catalogue order, with both languages."""
    return [
        {"code": s["code"], "en": s["en"], "zh": s["zh"], "department": s["department"]}
        for s in triage_rules()["symptoms"]
    ]
