"""The choices a symptom check offers: how long a symptom has lasted, and the labels of
severities, sexes and urgency levels. Each duration choice stands for a band of hours whose
edges are the rules' duration thresholds (48, 72, 120, 168, 336, 504 and 672 hours), so every
duration inside a band triages the same and the band's lower edge can stand for it (a test holds
the edges equal to the thresholds in `rules.json`)."""

from __future__ import annotations

from typing import Final, TypedDict

from yunyi.diagnosis.errors import DiagnosisErrorCode, diagnosis_error


class DurationChoice(TypedDict):
    code: str
    en: str
    zh: str
    hours_from: float  # inclusive lower edge of the band
    hours_below: float | None  # exclusive upper edge; None: open


DURATIONS: Final[tuple[DurationChoice, ...]] = (
    {"code": "under_1_hour", "en": "Less than an hour", "zh": "不到1小时",
     "hours_from": 0, "hours_below": 1},
    {"code": "under_1_day", "en": "1 hour to 1 day", "zh": "1小时至1天",
     "hours_from": 1, "hours_below": 24},
    {"code": "1_2_days", "en": "1-2 days", "zh": "1-2天", "hours_from": 24, "hours_below": 48},
    {"code": "2_3_days", "en": "2-3 days", "zh": "2-3天", "hours_from": 48, "hours_below": 72},
    {"code": "3_5_days", "en": "3-5 days", "zh": "3-5天", "hours_from": 72, "hours_below": 120},
    {"code": "5_7_days", "en": "5-7 days", "zh": "5-7天", "hours_from": 120, "hours_below": 168},
    {"code": "1_2_weeks", "en": "1-2 weeks", "zh": "1-2周", "hours_from": 168,
     "hours_below": 336},
    {"code": "2_3_weeks", "en": "2-3 weeks", "zh": "2-3周", "hours_from": 336,
     "hours_below": 504},
    {"code": "3_4_weeks", "en": "3-4 weeks", "zh": "3-4周", "hours_from": 504,
     "hours_below": 672},
    {"code": "over_4_weeks", "en": "More than 4 weeks", "zh": "超过4周", "hours_from": 672,
     "hours_below": None},
)  # fmt: skip
_BY_CODE: Final = {choice["code"]: choice for choice in DURATIONS}


def duration_hours(*, code: str, symptom: str) -> float:
    """The hours a duration choice stands for (its band's lower edge)."""
    choice = _BY_CODE.get(code)
    if choice is None:
        raise diagnosis_error(
            DiagnosisErrorCode.UNKNOWN_DURATION,
            details={"symptom": symptom, "duration": code[:64], "choices": list(_BY_CODE)},
        )
    return float(choice["hours_from"])


LABELS: Final[dict[str, dict[str, dict[str, str]]]] = {
    "severity": {
        "mild": {"en": "Mild", "zh": "轻度"},
        "moderate": {"en": "Moderate", "zh": "中度"},
        "severe": {"en": "Severe", "zh": "重度"},
    },
    "sex": {
        "female": {"en": "Female", "zh": "女"},
        "male": {"en": "Male", "zh": "男"},
        "unknown": {"en": "Prefer not to say", "zh": "不愿透露"},
    },
    "urgency": {
        "emergency": {"en": "Emergency: call 120 or go to an emergency department now",
                      "zh": "急症：请立即拨打120或前往急诊"},
        "within_24h": {"en": "See a doctor within 24 hours", "zh": "24小时内就医"},
        "routine": {"en": "Book a routine appointment", "zh": "预约常规门诊"},
        "self_care": {"en": "Self-care at home; see a doctor if it gets worse",
                      "zh": "居家自我护理；如加重请就医"},
    },
}  # fmt: skip
