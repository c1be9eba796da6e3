"""`/api/v1/diagnosis/...`: suggestions from a patient's record (doctors), symptom triage
(patients and guardians), the model registry and feedback monitoring (admins). Thin: check the
caller's role and the input, call one service or selector, render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from yunyi.accounts.models import User
from yunyi.accounts.roles import Role
from yunyi.audit.services import AuditContext, audit_context_from_request
from yunyi.core.errors import ApplicationError, CoreErrorCode
from yunyi.diagnosis import selectors, services
from yunyi.diagnosis.errors import DiagnosisErrorCode, diagnosis_error
from yunyi.diagnosis.ml.inference import InputValue, input_value_validate
from yunyi.diagnosis.ml.tasks import task_get
from yunyi.diagnosis.models import ModelVersion, SuggestionDecision
from yunyi.diagnosis.presenters import (
    model_version_out,
    suggestion_out,
    symptom_catalogue_out,
    triage_out,
)
from yunyi.diagnosis.schemas import (
    ErrorOut,
    FeedbackMonitoringOut,
    ModelVersionOut,
    SuggestionFeedbackIn,
    SuggestionFeedbackOut,
    SuggestionIn,
    SuggestionModelOut,
    SuggestionsOut,
    SymptomCatalogueOut,
    TriageIn,
    TriageOut,
)
from yunyi.diagnosis.triage.choices import duration_hours
from yunyi.diagnosis.triage.engine import triage_assess

router = Router(tags=["diagnosis"])

PLOTS = ("roc", "calibration")
_ERRORS: dict[int | str, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def _require(user: User, *roles: str) -> None:
    if not user.role_set() & set(roles):
        raise ApplicationError(
            CoreErrorCode.PERMISSION_DENIED, _("You may not do this."), status=403
        )


def _context(request: HttpRequest, role: str) -> AuditContext:
    return audit_context_from_request(request, role=role)


class SuggestionsQuery(Schema):
    patient: str = Field(min_length=1, max_length=64)
    task: str | None = Field(default=None, min_length=1, max_length=64)


@router.get(
    "/diagnosis/suggestions",
    response={200: SuggestionsOut, **_ERRORS, 409: ErrorOut},
    summary="Each active model's suggestion from a patient's record",
)
def suggestions_get(request: HttpRequest, query: Query[SuggestionsQuery]) -> SuggestionsOut:
    """Doctors: every suggestion computed is written to the record as a RiskAssessment and can
    be accepted or dismissed. Patients and guardians (their own or a ward's record) only when
    `YUNYI_DIAGNOSIS_PATIENT_VISIBLE` is on; nothing is written for them."""
    user = _user(request)
    roles = user.role_set()
    if Role.DOCTOR in roles:
        doctor_view = True
    elif roles & {Role.PATIENT, Role.GUARDIAN}:
        if not settings.DIAGNOSIS_PATIENT_VISIBLE:
            raise diagnosis_error(DiagnosisErrorCode.SUGGESTIONS_HIDDEN_FROM_PATIENTS)
        doctor_view = False
    else:
        _require(user, Role.DOCTOR)
    if query.task is not None:
        task_get(query.task)
    shown = services.suggestions_show(
        user=user, patient_id=query.patient, task=query.task, record=doctor_view
    )
    return SuggestionsOut(patient=query.patient, suggestions=[suggestion_out(s) for s in shown])


@router.post(
    "/diagnosis/suggestions",
    response={200: SuggestionsOut, **_ERRORS, 409: ErrorOut},
    summary="A model's suggestion from explicit inputs (and the patient's record, if named)",
)
def suggestions_post(request: HttpRequest, payload: SuggestionIn) -> SuggestionsOut:
    """Doctors only. With `patient`, inputs not posted come from the record and the suggestion
    is written to the record; without, nothing is read or written."""
    user = _user(request)
    _require(user, Role.DOCTOR)
    task = task_get(payload.task)
    unknown = sorted(set(payload.inputs) - set(task.input_names))
    if unknown:
        raise diagnosis_error(DiagnosisErrorCode.UNKNOWN_INPUT, details={"inputs": unknown})
    explicit = {
        name: InputValue(value=given.value, unit=given.unit)
        for name, given in payload.inputs.items()
    }
    specs = {spec.name: spec for spec in task.inputs}
    for name, value in explicit.items():
        # Posted values are refused with 400 up front, also when the record supplies the rest.
        input_value_validate(spec=specs[name], given=value)
    if payload.patient is not None:
        shown = services.suggestions_show(
            user=user, patient_id=payload.patient, task=task.name, explicit=explicit
        )
        return SuggestionsOut(
            patient=payload.patient, suggestions=[suggestion_out(s) for s in shown]
        )
    version = selectors.model_version_active(task=task.name)
    missing = [name for name in task.input_names if name not in explicit]
    if missing:
        raise diagnosis_error(DiagnosisErrorCode.MISSING_INPUTS, details={"missing": missing})
    suggestion = selectors.suggestion_from_inputs(task=task.name, inputs=explicit)
    answer = selectors.TaskSuggestion(task, version, suggestion, [])
    return SuggestionsOut(
        patient=None, suggestions=[suggestion_out(services.ShownSuggestion(answer, None))]
    )


@router.post(
    "/diagnosis/suggestions/{suggestion_id}/feedback",
    response={200: SuggestionFeedbackOut, **_ERRORS, 409: ErrorOut},
    summary="Accept or dismiss a suggestion shown to you",
)
def suggestion_feedback(
    request: HttpRequest, suggestion_id: str, payload: SuggestionFeedbackIn
) -> SuggestionFeedbackOut:
    user = _user(request)
    _require(user, Role.DOCTOR)
    feedback = services.suggestion_feedback_give(
        doctor=user,
        risk_assessment_id=suggestion_id[:64],
        decision=SuggestionDecision(payload.decision),
        reason=payload.reason,
        context=_context(request, Role.DOCTOR),
    )
    return SuggestionFeedbackOut(
        id=feedback.risk_assessment_id,
        task=feedback.model_version.task,
        version=feedback.model_version.version,
        decision=feedback.decision,
        reason=feedback.reason,
        decided_at=feedback.decided_at,
    )


@router.get(
    "/diagnosis/monitoring",
    response={200: list[FeedbackMonitoringOut], **_ERRORS},
    summary="Suggestions shown, accepted and dismissed per model version",
)
def monitoring(request: HttpRequest) -> list[FeedbackMonitoringOut]:
    _require(_user(request), Role.ADMIN)
    return [
        FeedbackMonitoringOut(
            model=SuggestionModelOut(id=row.model_version.pk, version=row.model_version.version),
            task=row.model_version.task,
            is_active=row.model_version.is_active,
            shown=row.shown,
            accepted=row.accepted,
            dismissed=row.dismissed,
            pending=row.pending,
            acceptance_rate=row.acceptance_rate,
        )
        for row in selectors.feedback_monitoring()
    ]


@router.get(
    "/diagnosis/symptoms",
    response={200: SymptomCatalogueOut, **_ERRORS},
    summary="The symptom catalogue with duration, severity and sex choices",
)
def symptoms(request: HttpRequest) -> SymptomCatalogueOut:
    return symptom_catalogue_out()


@router.post(
    "/diagnosis/triage",
    response={200: TriageOut, **_ERRORS},
    summary="Urgency, reasons and departments for a set of symptoms",
)
def triage(request: HttpRequest, payload: TriageIn) -> TriageOut:
    symptoms = [
        {
            "code": item.code,
            "severity": item.severity,
            "duration_hours": duration_hours(code=item.duration, symptom=item.code),
        }
        for item in payload.symptoms
    ]
    return triage_out(triage_assess(symptoms=symptoms, age=payload.age, sex=payload.sex))


def _model_version(model_id: int) -> ModelVersion:
    found = selectors.model_versions_list().filter(pk=model_id).first()
    if found is None:
        raise diagnosis_error(DiagnosisErrorCode.MODEL_VERSION_NOT_FOUND, details={"id": model_id})
    return found


@router.get(
    "/diagnosis/models",
    response={200: list[ModelVersionOut], **_ERRORS},
    summary="The model registry: every version of every task",
)
def models_list(request: HttpRequest) -> list[ModelVersionOut]:
    _require(_user(request), Role.ADMIN)
    return [model_version_out(v) for v in selectors.model_versions_list()]


@router.get(
    "/diagnosis/models/{model_id}/card",
    response={200: dict[str, Any], **_ERRORS},
    summary="A model version's card",
)
def model_card(request: HttpRequest, model_id: int) -> dict[str, Any]:
    _require(_user(request), Role.ADMIN)
    card: dict[str, Any] = _model_version(model_id).card
    return card


@router.get(
    "/diagnosis/models/{model_id}/plots/{name}",
    response={200: None, **_ERRORS},
    summary="A model version's ROC or calibration plot (PNG)",
)
def model_plot(request: HttpRequest, model_id: int, name: str) -> FileResponse:
    _require(_user(request), Role.ADMIN)
    version = _model_version(model_id)
    entry = version.card.get("files", {}).get(name) if name in PLOTS else None
    if not isinstance(entry, dict):
        raise diagnosis_error(DiagnosisErrorCode.PLOT_NOT_FOUND, details={"plot": name[:32]})
    # The file name comes from the card, never from the request.
    path = Path(settings.DIAGNOSIS_MODEL_DIR) / Path(version.file_path).parent / entry["name"]
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        raise diagnosis_error(DiagnosisErrorCode.PLOT_NOT_FOUND, details={"plot": name}) from None
    response = FileResponse(stream, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@router.post(
    "/diagnosis/models/{model_id}/activate",
    response={200: ModelVersionOut, **_ERRORS},
    summary="Make a model version the one serving its task",
)
def model_activate(request: HttpRequest, model_id: int) -> ModelVersionOut:
    user = _user(request)
    _require(user, Role.ADMIN)
    version = _model_version(model_id)
    # A version whose file fails its hash or type check is never made active.
    selectors.model_version_load(model_version=version)
    version = services.model_version_activate(
        model_version=version, context=_context(request, Role.ADMIN)
    )
    version.refresh_from_db()
    return model_version_out(version)
