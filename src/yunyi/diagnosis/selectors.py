"""Reads of the diagnosis app: the registry, the active model (verified before use), suggestions
from explicit inputs or from a patient's record, and the monitoring of doctors' feedback."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from yunyi.core.errors import ApplicationError
from yunyi.diagnosis.errors import DiagnosisErrorCode, diagnosis_error
from yunyi.diagnosis.ml.inference import InputValue, LoadedModel, Suggestion, suggestion_compute
from yunyi.diagnosis.ml.registry import model_file_load
from yunyi.diagnosis.ml.tasks import Task, task_get
from yunyi.diagnosis.models import ModelVersion, SuggestionDecision, SuggestionFeedback
from yunyi.diagnosis.record import RecordInputs, record_inputs_read
from yunyi.emr.policy import Actor

# Loaded estimators by (file path, sha256): a verified file is loaded once per process.
_loaded: dict[tuple[str, str], LoadedModel] = {}
_lock = threading.Lock()


def model_versions_list(*, task: str | None = None) -> QuerySet[ModelVersion]:
    versions = ModelVersion.objects.all()
    return versions.filter(task=task) if task else versions


def model_version_active(*, task: str) -> ModelVersion:
    task_get(task)
    found = ModelVersion.objects.filter(task=task, is_active=True).first()
    if found is None:
        raise diagnosis_error(DiagnosisErrorCode.NO_ACTIVE_MODEL, details={"task": task})
    return found


def model_version_load(*, model_version: ModelVersion) -> LoadedModel:
    """The estimator of `model_version`, refused unless the file's SHA-256 equals both the
    registry row's and the card's."""
    path = Path(settings.DIAGNOSIS_MODEL_DIR) / model_version.file_path
    key = (str(path), model_version.sha256)
    with _lock:
        if key in _loaded:
            return _loaded[key]
    card: dict[str, Any] = model_version.card
    if card.get("files", {}).get("model", {}).get("sha256") != model_version.sha256:
        raise diagnosis_error(
            DiagnosisErrorCode.MODEL_HASH_MISMATCH,
            details={"task": model_version.task, "version": model_version.version},
        )
    estimator = model_file_load(path=path, card=card)
    loaded = LoadedModel(
        task=task_get(model_version.task),
        version=model_version.version,
        estimator=estimator,
        card=card,
    )
    with _lock:
        _loaded[key] = loaded
    return loaded


def model_active_load(*, task: str) -> LoadedModel:
    return model_version_load(model_version=model_version_active(task=task))


def suggestion_from_inputs(*, task: str, inputs: Mapping[str, InputValue]) -> Suggestion:
    """A suggestion of the task's active model from explicit input values."""
    return suggestion_compute(model=model_active_load(task=task), inputs=inputs)


@dataclass(frozen=True)
class TaskSuggestion:
    """One active model's answer for one patient: a suggestion, or why there is none (inputs
    missing from the record, a record value refused, the model file refused)."""

    task: Task
    model_version: ModelVersion
    suggestion: Suggestion | None
    missing: list[str]
    error: ApplicationError | None = None
    # The model's intended population excludes this patient (e.g. a man for a model of women).
    outside_population: bool = False


def _active_versions(task: str | None) -> list[ModelVersion]:
    if task is not None:
        return [model_version_active(task=task)]
    return list(ModelVersion.objects.filter(is_active=True).order_by("task"))


def _answer(
    *, model_version: ModelVersion, inputs: Mapping[str, InputValue], gender: str | None
) -> TaskSuggestion:
    task = task_get(model_version.task)
    outside = bool(task.population_sex and gender and gender != task.population_sex)
    missing = [name for name in task.input_names if name not in inputs]
    if missing:
        return TaskSuggestion(task, model_version, None, missing, outside_population=outside)
    try:
        model = model_version_load(model_version=model_version)
        suggestion = suggestion_compute(model=model, inputs=inputs)
    except ApplicationError as error:
        return TaskSuggestion(task, model_version, None, [], error, outside_population=outside)
    return TaskSuggestion(task, model_version, suggestion, [], outside_population=outside)


def suggestions_from_record(
    *,
    actor: Actor,
    patient_id: str,
    task: str | None = None,
    explicit: Mapping[str, InputValue] | None = None,
) -> tuple[RecordInputs, list[TaskSuggestion]]:
    """Each active model's answer (or `task`'s alone) from the newest values in the patient's
    record; `explicit` values (e.g. posted by the doctor) take precedence over the record's.
    The record is read as `actor` (authorized and audited by the emr)."""
    versions = _active_versions(task)
    record = record_inputs_read(
        actor=actor, patient_id=patient_id, tasks=[task_get(v.task) for v in versions]
    )
    inputs = {**record.values, **(explicit or {})}
    answers = []
    for version in versions:
        names = set(task_get(version.task).input_names)
        chosen = {name: value for name, value in inputs.items() if name in names}
        answers.append(_answer(model_version=version, inputs=chosen, gender=record.gender))
    # A model trained on another population (the Pima data: women only) is shown, flagged, after
    # the models that fit the patient; the sort is stable, so the order is otherwise the registry's.
    answers.sort(key=lambda answer: answer.outside_population)
    return record, answers


@dataclass(frozen=True)
class MonitoringRow:
    model_version: ModelVersion
    shown: int
    accepted: int
    dismissed: int

    @property
    def pending(self) -> int:
        return self.shown - self.accepted - self.dismissed

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted among decided suggestions; None before any decision."""
        decided = self.accepted + self.dismissed
        return round(self.accepted / decided, 4) if decided else None


def feedback_monitoring() -> list[MonitoringRow]:
    """Suggestions shown, accepted and dismissed per model version (every version ever shown)."""
    rows = (
        SuggestionFeedback.objects.values("model_version")
        .annotate(
            shown=Count("id"),
            accepted=Count("id", filter=Q(decision=SuggestionDecision.ACCEPTED)),
            dismissed=Count("id", filter=Q(decision=SuggestionDecision.DISMISSED)),
        )
        .order_by("model_version")
    )
    versions = ModelVersion.objects.in_bulk([row["model_version"] for row in rows])
    return [
        MonitoringRow(
            versions[row["model_version"]], row["shown"], row["accepted"], row["dismissed"]
        )
        for row in rows
    ]
