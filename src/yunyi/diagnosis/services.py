"""Writes of the diagnosis app: training models into the registry and choosing the active one;
suggestions shown to a doctor written to the record as RiskAssessments, and the doctor's
feedback on them (audited)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from yunyi.audit.services import AuditContext, audit_record
from yunyi.core.errors import ApplicationError
from yunyi.diagnosis.errors import DiagnosisErrorCode, diagnosis_error
from yunyi.diagnosis.fhir import risk_assessment_resource
from yunyi.diagnosis.ml.inference import InputValue, Suggestion
from yunyi.diagnosis.ml.registry import WrittenArtifact, artifacts_write
from yunyi.diagnosis.ml.tasks import TASKS, task_get
from yunyi.diagnosis.models import ModelVersion, SuggestionDecision, SuggestionFeedback
from yunyi.diagnosis.selectors import TaskSuggestion, suggestions_from_record
from yunyi.emr.policy import Actor
from yunyi.emr.services import record_create

if TYPE_CHECKING:  # training pulls in scikit-learn: imported only where models are trained
    from yunyi.diagnosis.ml.training import TrainedTask, TrainingConfig


@dataclass(frozen=True)
class TrainingResult:
    model_version: ModelVersion
    trained: TrainedTask
    created: bool  # False when the same data gave a version already in the registry


def model_version_activate(
    *, model_version: ModelVersion, context: AuditContext | None = None
) -> ModelVersion:
    """Make `model_version` the one serving its task; the task's rows are locked so two
    activations cannot both win (the partial unique index would refuse the second anyway).
    With a `context` (an admin's request) the change is audited in the same transaction."""
    with transaction.atomic():
        rows = ModelVersion.objects.select_for_update().filter(task=model_version.task)
        list(rows.values_list("pk", flat=True))
        previous = list(
            rows.exclude(pk=model_version.pk).filter(is_active=True).values_list("pk", flat=True)
        )
        rows.exclude(pk=model_version.pk).filter(is_active=True).update(is_active=False)
        rows.filter(pk=model_version.pk).update(is_active=True)
        if context is not None:
            audit_record(
                context=context,
                action="diagnosis.model_version.activate",
                object_type="ModelVersion",
                object_id=str(model_version.pk),
                detail={
                    "task": model_version.task,
                    "version": model_version.version,
                    "deactivated": previous,
                },
            )
    model_version.is_active = True
    return model_version


def model_version_register(*, artifact: WrittenArtifact, activate: bool = True) -> ModelVersion:
    """The registry row for a written artifact (created once per task and version)."""
    model_version, _ = ModelVersion.objects.get_or_create(
        task=artifact.task,
        version=artifact.version,
        defaults={
            "file_path": artifact.model_path,
            "sha256": artifact.sha256,
            "card": artifact.card,
        },
    )
    if activate:
        model_version_activate(model_version=model_version)
    return model_version


def models_train(
    *,
    tasks: Sequence[str] | None = None,
    config: TrainingConfig | None = None,
    registry_dir: Path | None = None,
    on_trained: Callable[[TrainingResult], None] | None = None,
) -> list[TrainingResult]:
    """Train each task (all by default; the full configuration unless `config` says otherwise),
    write its files to the registry and activate it."""
    from yunyi.diagnosis.ml.training import FULL, train_task

    names = list(tasks) if tasks else list(TASKS)
    chosen = [task_get(name) for name in names]
    root = registry_dir or Path(settings.DIAGNOSIS_MODEL_DIR)
    results = []
    for task in chosen:
        trained = train_task(task=task, config=config or FULL)
        artifact = artifacts_write(trained=trained, root=root, trained_at=timezone.now())
        existed = ModelVersion.objects.filter(task=task.name, version=artifact.version).exists()
        result = TrainingResult(
            model_version=model_version_register(artifact=artifact),
            trained=trained,
            created=not existed,
        )
        results.append(result)
        if on_trained:
            on_trained(result)
    return results


@dataclass(frozen=True)
class ShownSuggestion:
    """A model's answer as shown to a doctor; `feedback` is the row (and RiskAssessment) of a
    computed suggestion, None when none was computed (inputs missing, refused)."""

    answer: TaskSuggestion
    feedback: SuggestionFeedback | None


def _inputs_digest(suggestion: Suggestion) -> str:
    facts = [
        [e["input"], e["value"], e["unit"], e["source"], e["effective"]]
        for e in suggestion.inputs_used
    ]
    payload = json.dumps([suggestion.task, suggestion.version, facts], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _suggestion_record(
    *, actor: Actor, doctor: Any, patient_id: str, answer: TaskSuggestion
) -> SuggestionFeedback:
    """Write the suggestion to the record as a RiskAssessment (through the emr: authorized and
    audited) with its monitoring row, once per doctor, patient and inputs."""
    suggestion = answer.suggestion
    assert suggestion is not None
    digest = _inputs_digest(suggestion)
    identity = {
        "doctor": doctor,
        "patient_id": patient_id,
        "model_version": answer.model_version,
        "inputs_digest": digest,
    }
    existing = SuggestionFeedback.objects.filter(**identity).first()
    if existing is not None:
        return existing
    resource = risk_assessment_resource(
        suggestion=suggestion,
        title=answer.task.title_en,
        outcome=answer.task.positive_label,
        patient_id=patient_id,
        occurred=timezone.now().isoformat(),
    )
    try:
        with transaction.atomic():
            stored = record_create(actor=actor, resource=resource).stored
            return SuggestionFeedback.objects.create(
                **identity,
                risk_assessment_id=stored.id,
                probability=suggestion.probability,
                risk_band=suggestion.risk_band,
            )
    except IntegrityError:
        # A concurrent request showed the same suggestion first; its row and record stand.
        return SuggestionFeedback.objects.get(**identity)


def _record_error(error: ApplicationError) -> ApplicationError:
    if error.status == 403:
        return diagnosis_error(DiagnosisErrorCode.PATIENT_NOT_VISIBLE)
    if error.status == 404:
        return diagnosis_error(DiagnosisErrorCode.PATIENT_NOT_FOUND)
    return error


def suggestions_show(
    *,
    user: Any,
    patient_id: str,
    task: str | None = None,
    explicit: Mapping[str, InputValue] | None = None,
    record: bool = True,
) -> list[ShownSuggestion]:
    """Each active model's answer (or `task`'s) for Patient/`patient_id`, read from the record
    as `user`; with `record` (a doctor's view) every computed suggestion is written to the
    record as a RiskAssessment and kept for feedback. A patient the user may not see is
    refused (403 `patient_not_visible`, 404 `patient_not_found`)."""
    actor = Actor.for_user(user)
    try:
        _inputs, answers = suggestions_from_record(
            actor=actor, patient_id=patient_id, task=task, explicit=explicit
        )
    except ApplicationError as error:
        raise _record_error(error) from error
    shown = []
    for answer in answers:
        feedback = None
        if record and answer.suggestion is not None:
            feedback = _suggestion_record(
                actor=actor, doctor=user, patient_id=patient_id, answer=answer
            )
        shown.append(ShownSuggestion(answer, feedback))
    return shown


def suggestion_feedback_give(
    *,
    doctor: Any,
    risk_assessment_id: str,
    decision: SuggestionDecision,
    reason: str,
    context: AuditContext,
) -> SuggestionFeedback:
    """The doctor's acceptance or dismissal of a suggestion shown to them, final once given;
    audited in the same transaction. Another doctor's suggestion is not found (404)."""
    if decision == SuggestionDecision.PENDING:
        raise diagnosis_error(DiagnosisErrorCode.SUGGESTION_NOT_FOUND)
    with transaction.atomic():
        feedback = (
            SuggestionFeedback.objects.select_for_update()
            .select_related("model_version")
            .filter(risk_assessment_id=risk_assessment_id, doctor=doctor)
            .first()
        )
        if feedback is None:
            raise diagnosis_error(
                DiagnosisErrorCode.SUGGESTION_NOT_FOUND, details={"id": risk_assessment_id}
            )
        if feedback.decision != SuggestionDecision.PENDING:
            raise diagnosis_error(
                DiagnosisErrorCode.FEEDBACK_ALREADY_GIVEN,
                details={"decision": feedback.decision},
            )
        feedback.decision = decision
        feedback.reason = " ".join(reason.split())[:500]
        feedback.decided_at = timezone.now()
        feedback.save(update_fields=["decision", "reason", "decided_at"])
        audit_record(
            context=context,
            action=f"diagnosis.suggestion.{decision}",
            object_type="RiskAssessment",
            object_id=feedback.risk_assessment_id,
            detail={
                "task": feedback.model_version.task,
                "version": feedback.model_version.version,
                "patients": [feedback.patient_id],
            },
        )
    return feedback
