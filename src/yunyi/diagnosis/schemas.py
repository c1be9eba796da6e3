"""Request and response bodies of the diagnosis API. Requests refuse unknown fields; numbers are
strict (a string is not a number) and finite."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from yunyi.accounts.schemas import ErrorDetail, ErrorOut, StrictIn

__all__ = ["ErrorOut"]

MAX_EXPLICIT_INPUTS = 64
MAX_SYMPTOMS = 40


class DiagnosisLabel(Schema):
    en: str
    zh: str


class MetricInterval(Schema):
    value: float | None
    low: float | None
    high: float | None


class ExplicitInputIn(StrictIn):
    model_config = ConfigDict(extra="forbid", strict=True)
    value: float = Field(allow_inf_nan=False)
    unit: str | None = Field(default=None, min_length=1, max_length=32)


class SuggestionIn(StrictIn):
    task: str = Field(min_length=1, max_length=64)
    patient: str | None = Field(default=None, min_length=1, max_length=64)
    inputs: dict[str, ExplicitInputIn] = Field(max_length=MAX_EXPLICIT_INPUTS)


class InputUsedOut(Schema):
    input: str
    label: DiagnosisLabel
    loinc: str | None
    value: float
    unit: str
    given_value: float
    given_unit: str
    effective: str | None
    source: str


class MissingInputOut(Schema):
    input: str
    label: DiagnosisLabel
    loinc: str | None
    unit: str
    # The coding a clinic can record it with when it has no LOINC code.
    system: str
    code: str


class InputContributionOut(Schema):
    input: str
    label: DiagnosisLabel
    value: float
    reference: float
    change: float


class InputOutOfRangeOut(Schema):
    input: str
    value: float
    min: float
    max: float


class SuggestionModelOut(Schema):
    id: int
    version: str


class SuggestionOut(Schema):
    task: str
    title: DiagnosisLabel
    model: SuggestionModelOut
    status: Literal["ok", "missing_inputs", "refused"]
    # The RiskAssessment written to the record (a doctor's view of a patient's record only).
    id: str | None = None
    decision: Literal["pending", "accepted", "dismissed"] | None = None
    probability: float | None = None
    risk_band: Literal["low", "intermediate", "high"] | None = None
    threshold: float | None = None
    inputs_used: list[InputUsedOut] = []
    missing: list[MissingInputOut] = []
    contributions: list[InputContributionOut] = []
    out_of_distribution: bool = False
    out_of_range: list[InputOutOfRangeOut] = []
    outside_population: bool = False
    performance: dict[str, MetricInterval] = {}
    error: ErrorDetail | None = None


class SuggestionsOut(Schema):
    patient: str | None
    suggestions: list[SuggestionOut]


class SuggestionFeedbackIn(StrictIn):
    decision: Literal["accepted", "dismissed"]
    reason: str = Field(default="", max_length=500)


class SuggestionFeedbackOut(Schema):
    id: str
    task: str
    version: str
    decision: str
    reason: str
    decided_at: datetime | None


class FeedbackMonitoringOut(Schema):
    model: SuggestionModelOut
    task: str
    is_active: bool
    shown: int
    accepted: int
    dismissed: int
    pending: int
    acceptance_rate: float | None


class TriageSymptomOut(Schema):
    code: str
    label: DiagnosisLabel
    department: str


class TriageChoiceOut(Schema):
    code: str
    label: DiagnosisLabel


class SymptomCatalogueOut(Schema):
    symptoms: list[TriageSymptomOut]
    durations: list[TriageChoiceOut]
    severities: list[TriageChoiceOut]
    sexes: list[TriageChoiceOut]
    urgencies: list[TriageChoiceOut]


class TriageSymptomIn(StrictIn):
    code: str = Field(min_length=1, max_length=64)
    duration: str = Field(min_length=1, max_length=32)
    severity: str = Field(min_length=1, max_length=16)


class TriageIn(StrictIn):
    model_config = ConfigDict(extra="forbid", strict=True)
    symptoms: list[TriageSymptomIn] = Field(max_length=MAX_SYMPTOMS)
    age: float = Field(allow_inf_nan=False)
    sex: str = Field(max_length=16)


class TriageDepartmentOut(Schema):
    code: str
    label: DiagnosisLabel


class TriageReasonOut(Schema):
    rule: str | None = None
    symptom: str | None = None
    label: DiagnosisLabel
    sources: list[str]


class TriageOut(Schema):
    urgency: Literal["emergency", "within_24h", "routine", "self_care"]
    urgency_label: DiagnosisLabel
    red_flag: bool
    reasons: list[TriageReasonOut]
    departments: list[TriageDepartmentOut]


class ModelMetricRowOut(Schema):
    metric: str
    model: MetricInterval
    baseline: MetricInterval
    published: float | None = None
    published_source: str | None = None


class ModelVersionOut(Schema):
    id: int
    task: str
    version: str
    title: DiagnosisLabel
    is_active: bool
    created_at: datetime
    trained_at: str | None
    training_seconds: float | None
    threshold: float | None
    counts: dict[str, Any]
    metrics: list[ModelMetricRowOut]
    published: list[dict[str, Any]]
    plots: list[str]
