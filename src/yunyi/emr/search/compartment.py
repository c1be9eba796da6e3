"""Which resources belong to a patient's record (FHIR R4 CompartmentDefinition "Patient"), as
data: for each clinical resource type, the one search parameter that names its patient.

The R4 compartment lists several parameters for some types (Observation: subject, performer); we
keep the one naming the patient the record is *about*, so that access checks on a single resource
and the filter added to a search agree exactly. Types listed in `DIRECTORY_TYPES` describe people
and places of care rather than a patient; any other type is reachable with `system/` scopes only.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final

from yunyi.emr.search.declarations import parameters_for
from yunyi.emr.search.extract import parse_reference
from yunyi.emr.search.paths import compile_expression, evaluate

PATIENT_PARAMETER: Final[dict[str, str]] = {
    "Patient": "_id",
    "AllergyIntolerance": "patient",
    "Appointment": "patient",
    "Condition": "patient",
    "Consent": "patient",
    "Device": "patient",
    "DeviceRequest": "patient",
    "DiagnosticReport": "patient",
    "DocumentReference": "patient",
    "Encounter": "patient",
    "Immunization": "patient",
    "MedicationRequest": "patient",
    "Observation": "patient",
    "Procedure": "patient",
    "RiskAssessment": "patient",
}
DIRECTORY_TYPES: Final[frozenset[str]] = frozenset(
    {
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "Medication",
        "HealthcareService",
        "Endpoint",
    }
)


def is_clinical(resource_type: str) -> bool:
    return resource_type in PATIENT_PARAMETER


def is_directory(resource_type: str) -> bool:
    return resource_type in DIRECTORY_TYPES


# A relative reference to a Patient, as nearly every stored resource holds it.
_LOCAL_PATIENT: Final = re.compile(r"Patient/([A-Za-z0-9\-.]{1,64})")


@functools.cache
def _direct_element(resource_type: str) -> str | None:
    """The element naming the patient when the type's parameter is one plain step below the
    resource (`Condition.subject`), else None."""
    name = PATIENT_PARAMETER.get(resource_type)
    if name is None or name == "_id":
        return None
    paths = compile_expression(parameters_for(resource_type)[name].expression)
    if len(paths) != 1 or paths[0].root != resource_type or len(paths[0].steps) != 1:
        return None
    step = paths[0].steps[0]
    return step.name if step.field is None else None


def compartment_patients(
    resource: dict[str, Any], *, local_base: str | None = None
) -> frozenset[str]:
    """Ids of the patients whose record `resource` belongs to (empty: none, e.g. a Group)."""
    resource_type = str(resource.get("resourceType"))
    name = PATIENT_PARAMETER.get(resource_type)
    if name is None:
        return frozenset()
    if name == "_id":
        resource_id = resource.get("id")
        return frozenset({resource_id}) if isinstance(resource_id, str) else frozenset()
    element = _direct_element(resource_type)
    if element is not None:
        # The common shape, found without walking the path (every search page asks this of
        # each resource it returns); anything else takes the general way below.
        node = resource.get(element)
        text = node.get("reference") if isinstance(node, dict) else None
        match = _LOCAL_PATIENT.fullmatch(text) if isinstance(text, str) else None
        if match is not None:
            return frozenset((match.group(1),))
    param = parameters_for(resource_type)[name]
    found: set[str] = set()
    for node in evaluate(resource, param.expression):
        text = node.get("reference") if isinstance(node, dict) else None
        row = parse_reference(text, local_base=local_base) if isinstance(text, str) else None
        if row is not None and row.target_type == "Patient" and row.target_id:
            found.add(row.target_id)
    return frozenset(found)
