"""Domain results rendered as the API's response bodies (labels in both languages, the card's
metrics as a table)."""

from __future__ import annotations

from typing import Any

from yunyi.diagnosis.ml.inputs import InputSpec
from yunyi.diagnosis.ml.tasks import Task
from yunyi.diagnosis.models import ModelVersion
from yunyi.diagnosis.record import spec_codes
from yunyi.diagnosis.schemas import (
    DiagnosisLabel,
    ErrorDetail,
    InputContributionOut,
    InputOutOfRangeOut,
    InputUsedOut,
    MetricInterval,
    MissingInputOut,
    ModelMetricRowOut,
    ModelVersionOut,
    SuggestionModelOut,
    SuggestionOut,
    SymptomCatalogueOut,
    TriageChoiceOut,
    TriageDepartmentOut,
    TriageOut,
    TriageReasonOut,
    TriageSymptomOut,
)
from yunyi.diagnosis.services import ShownSuggestion
from yunyi.diagnosis.triage.choices import DURATIONS, LABELS
from yunyi.diagnosis.triage.engine import TriageResult, symptom_catalogue
from yunyi.practitioners.departments import DEPARTMENTS


def _spec_label(spec: InputSpec) -> DiagnosisLabel:
    return DiagnosisLabel(en=spec.label_en, zh=spec.label_zh)


def _specs(task: Task) -> dict[str, InputSpec]:
    return {spec.name: spec for spec in task.inputs}


def _missing(spec: InputSpec) -> MissingInputOut:
    system, code = spec_codes(spec)[0]
    return MissingInputOut(
        input=spec.name,
        label=_spec_label(spec),
        loinc=spec.loinc,
        unit=spec.unit,
        system=system,
        code=code,
    )


def suggestion_out(shown: ShownSuggestion) -> SuggestionOut:
    answer = shown.answer
    task = answer.task
    specs = _specs(task)
    out = SuggestionOut(
        task=task.name,
        title=DiagnosisLabel(en=task.title_en, zh=task.title_zh),
        model=SuggestionModelOut(id=answer.model_version.pk, version=answer.model_version.version),
        status="ok",
        outside_population=answer.outside_population,
    )
    if answer.missing:
        out.status = "missing_inputs"
        out.missing = [_missing(specs[name]) for name in answer.missing]
        return out
    if answer.error is not None or answer.suggestion is None:
        out.status = "refused"
        if answer.error is not None:
            error = answer.error.as_json()["error"]
            out.error = ErrorDetail(
                code=str(error["code"]), message=str(error["message"]), details=error.get("details")
            )
        return out
    suggestion = answer.suggestion
    if shown.feedback is not None:
        out.id = shown.feedback.risk_assessment_id
        out.decision = shown.feedback.decision  # type: ignore[assignment]
    out.probability = suggestion.probability
    out.risk_band = suggestion.risk_band  # type: ignore[assignment]
    out.threshold = suggestion.threshold
    out.inputs_used = [
        InputUsedOut(
            input=e["input"],
            label=_spec_label(specs[e["input"]]),
            loinc=e["loinc"],
            value=e["value"],
            unit=e["unit"],
            given_value=float(e["given_value"]),
            given_unit=e["given_unit"],
            effective=e["effective"],
            source=e["source"],
        )
        for e in suggestion.inputs_used
    ]
    out.contributions = [
        InputContributionOut(label=_spec_label(specs[e["input"]]), **e)
        for e in suggestion.contributions
    ]
    out.out_of_distribution = suggestion.out_of_distribution
    out.out_of_range = [InputOutOfRangeOut(**e) for e in suggestion.out_of_range]
    out.performance = {
        name: MetricInterval(**value) for name, value in suggestion.performance.items()
    }
    return out


def _label(pair: dict[str, str]) -> DiagnosisLabel:
    return DiagnosisLabel(en=pair["en"], zh=pair["zh"])


def _choices(kind: str) -> list[TriageChoiceOut]:
    return [TriageChoiceOut(code=code, label=_label(pair)) for code, pair in LABELS[kind].items()]


def symptom_catalogue_out() -> SymptomCatalogueOut:
    return SymptomCatalogueOut(
        symptoms=[
            TriageSymptomOut(code=s["code"], label=_label(s), department=s["department"])
            for s in symptom_catalogue()
        ],
        durations=[TriageChoiceOut(code=d["code"], label=_label(dict(d))) for d in DURATIONS],  # type: ignore[arg-type]
        severities=_choices("severity"),
        sexes=_choices("sex"),
        urgencies=_choices("urgency"),
    )


def triage_out(result: TriageResult) -> TriageOut:
    return TriageOut(
        urgency=result.urgency,  # type: ignore[arg-type]
        urgency_label=_label(LABELS["urgency"][result.urgency]),
        red_flag=result.red_flag,
        reasons=[
            TriageReasonOut(
                rule=reason.get("rule"),
                symptom=reason.get("symptom"),
                label=_label(reason),
                sources=reason["sources"],
            )
            for reason in result.reasons
        ],
        departments=[
            TriageDepartmentOut(code=code, label=_label(dict(DEPARTMENTS[code])))  # type: ignore[arg-type]
            for code in result.departments
        ],
    )


def _interval(node: Any) -> MetricInterval:
    if not isinstance(node, dict):
        return MetricInterval(value=None, low=None, high=None)
    return MetricInterval(value=node.get("value"), low=node.get("low"), high=node.get("high"))


def model_version_out(version: ModelVersion) -> ModelVersionOut:
    card: dict[str, Any] = version.card
    metrics = card.get("metrics", {})
    published = {p.get("metric"): p for p in card.get("published", [])}
    rows = []
    for name in metrics.get("names", []):
        figure = published.get(name, {})
        value = figure.get("value")
        measured = figure.get("measured_here")
        if value is None and isinstance(measured, dict):
            value = measured.get("value")  # a published formula scored on our test data
        rows.append(
            ModelMetricRowOut(
                metric=name,
                model=_interval(metrics.get("model", {}).get(name)),
                baseline=_interval(metrics.get("baseline", {}).get(name)),
                published=value,
                published_source=figure.get("source"),
            )
        )
    title = card.get("title", {})
    return ModelVersionOut(
        id=version.pk,
        task=version.task,
        version=version.version,
        title=DiagnosisLabel(
            en=title.get("en", version.task), zh=title.get("zh-Hans", version.task)
        ),
        is_active=version.is_active,
        created_at=version.created_at,
        trained_at=card.get("trained_at"),
        training_seconds=card.get("training_seconds"),
        threshold=card.get("threshold", {}).get("value"),
        counts=card.get("counts", {}),
        metrics=rows,
        published=card.get("published", []),
        plots=[name for name in ("roc", "calibration") if name in card.get("files", {})],
    )
