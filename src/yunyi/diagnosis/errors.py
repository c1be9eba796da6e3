"""Error codes of the diagnosis app, and the one place that builds its `ApplicationError`s.

The pure modules (`yunyi.diagnosis.ml`, `yunyi.diagnosis.triage`) raise through `diagnosis_error`
so every failure carries a stable code and a translatable message; `gettext_lazy` needs no
configured settings until the message is rendered, so those modules still run without Django.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yunyi.core.errors import ApplicationError


class DiagnosisErrorCode(StrEnum):
    # Models and the registry.
    UNKNOWN_TASK = "unknown_task"  # 404: no such clinical task
    NO_ACTIVE_MODEL = "no_active_model"  # 404: the task has no active model version
    MODEL_FILE_MISSING = "model_file_missing"  # 409: the registry row names a missing file
    MODEL_HASH_MISMATCH = "model_hash_mismatch"  # 409: file SHA-256 differs from its card
    MODEL_UNTRUSTED_TYPES = "model_untrusted_types"  # 409: the file holds types we never trust
    # Inputs of a model.
    MISSING_INPUTS = "missing_inputs"  # 400 (details: the missing input names)
    UNKNOWN_INPUT = "unknown_input"  # 400: an input the model does not declare
    NON_NUMERIC_INPUT = "non_numeric_input"  # 400: not a finite number
    NEGATIVE_INPUT = "negative_input"  # 400: below zero where only >= 0 makes sense
    IMPLAUSIBLE_INPUT = "implausible_input"  # 400: outside the declared physiological range
    UNKNOWN_UNIT = "unknown_unit"  # 400: a unit with no conversion to the declared one
    # Suggestions for a patient and the doctor's feedback.
    PATIENT_NOT_VISIBLE = "patient_not_visible"  # 403: no right to see this patient's record
    PATIENT_NOT_FOUND = "patient_not_found"  # 404: no such patient record
    SUGGESTIONS_HIDDEN_FROM_PATIENTS = "suggestions_hidden_from_patients"  # 403: setting off
    SUGGESTION_NOT_FOUND = "suggestion_not_found"  # 404: unknown, or shown to another doctor
    FEEDBACK_ALREADY_GIVEN = "feedback_already_given"  # 409: decisions are final
    MODEL_VERSION_NOT_FOUND = "model_version_not_found"  # 404
    PLOT_NOT_FOUND = "plot_not_found"  # 404
    # Symptom triage.
    NO_SYMPTOMS = "no_symptoms"  # 400
    UNKNOWN_SYMPTOM = "unknown_symptom"  # 400 (details: the unknown codes)
    DUPLICATE_SYMPTOM = "duplicate_symptom"  # 400
    INVALID_SEVERITY = "invalid_severity"  # 400
    INVALID_DURATION = "invalid_duration"  # 400
    UNKNOWN_DURATION = "unknown_duration"  # 400: not one of the catalogue's duration choices
    INVALID_AGE = "invalid_age"  # 400
    INVALID_SEX = "invalid_sex"  # 400


_MESSAGES: dict[DiagnosisErrorCode, tuple[Promise, int]] = {
    DiagnosisErrorCode.UNKNOWN_TASK: (_("There is no such diagnosis model."), 404),
    DiagnosisErrorCode.NO_ACTIVE_MODEL: (_("This diagnosis model has no active version."), 404),
    DiagnosisErrorCode.MODEL_FILE_MISSING: (_("The model file is missing."), 409),
    DiagnosisErrorCode.MODEL_HASH_MISMATCH: (
        _("The model file does not match the hash on its model card; it was not loaded."),
        409,
    ),
    DiagnosisErrorCode.MODEL_UNTRUSTED_TYPES: (
        _("The model file contains object types that are not trusted; it was not loaded."),
        409,
    ),
    DiagnosisErrorCode.MISSING_INPUTS: (_("Some inputs the model needs are missing."), 400),
    DiagnosisErrorCode.UNKNOWN_INPUT: (_("The model has no such input."), 400),
    DiagnosisErrorCode.NON_NUMERIC_INPUT: (_("An input value is not a number."), 400),
    DiagnosisErrorCode.NEGATIVE_INPUT: (_("An input value cannot be negative."), 400),
    DiagnosisErrorCode.IMPLAUSIBLE_INPUT: (
        _("An input value is outside the physiologically plausible range."),
        400,
    ),
    DiagnosisErrorCode.UNKNOWN_UNIT: (_("The unit of an input is not supported."), 400),
    DiagnosisErrorCode.PATIENT_NOT_VISIBLE: (
        _("You may not see this patient's record, so no suggestion can be made."),
        403,
    ),
    DiagnosisErrorCode.PATIENT_NOT_FOUND: (_("There is no such patient record."), 404),
    DiagnosisErrorCode.SUGGESTIONS_HIDDEN_FROM_PATIENTS: (
        _("Model suggestions are shown to doctors only."),
        403,
    ),
    DiagnosisErrorCode.SUGGESTION_NOT_FOUND: (_("There is no such suggestion for you."), 404),
    DiagnosisErrorCode.FEEDBACK_ALREADY_GIVEN: (
        _("This suggestion has already been accepted or dismissed."),
        409,
    ),
    DiagnosisErrorCode.MODEL_VERSION_NOT_FOUND: (_("There is no such model version."), 404),
    DiagnosisErrorCode.PLOT_NOT_FOUND: (_("There is no such plot for this model."), 404),
    DiagnosisErrorCode.NO_SYMPTOMS: (_("Choose at least one symptom."), 400),
    DiagnosisErrorCode.UNKNOWN_SYMPTOM: (_("A symptom is not in the catalogue."), 400),
    DiagnosisErrorCode.DUPLICATE_SYMPTOM: (_("A symptom was given more than once."), 400),
    DiagnosisErrorCode.INVALID_SEVERITY: (_("The severity must be mild, moderate or severe."), 400),
    DiagnosisErrorCode.INVALID_DURATION: (_("The duration must be a number of hours."), 400),
    DiagnosisErrorCode.UNKNOWN_DURATION: (
        _("The duration must be one of the choices offered."),
        400,
    ),
    DiagnosisErrorCode.INVALID_AGE: (_("The age must be a number of years from 0 to 130."), 400),
    DiagnosisErrorCode.INVALID_SEX: (_("The sex must be female, male or unknown."), 400),
}


def diagnosis_error(code: DiagnosisErrorCode, *, details: Any = None) -> ApplicationError:
    """The `ApplicationError` for `code`, with its message and HTTP status."""
    message, status = _MESSAGES[code]
    # The message stays lazy: it is translated when rendered, in the caller's language.
    return ApplicationError(code, message, status=status, details=details)  # type: ignore[arg-type]
