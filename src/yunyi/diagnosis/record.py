"""Model inputs read from a patient's record, through `yunyi.emr.services` as the caller (so the
access policy and the audit trail apply): one read of the Patient (which also refuses a patient
the caller may not see) and one Observation search, sorted newest first, paged only until every
wanted code has been seen.

Inputs with a LOINC code are matched on it (or an alternate); inputs without one (e.g. the
diabetes pedigree function) are matched on our own code system `INPUT_CODE_SYSTEM` with the
input's name as code, so a clinic can record them as Observations. Codes are matched on the
Observation's code and on its components' (blood pressure is a panel with a diastolic
component). Age comes from `Patient.birthDate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from django.utils import timezone

from yunyi.diagnosis.ml.inference import InputValue
from yunyi.diagnosis.ml.inputs import InputSpec
from yunyi.diagnosis.ml.tasks import Task
from yunyi.emr.policy import Actor
from yunyi.emr.services import record_read, record_search

LOINC: Final = "http://loinc.org"
INPUT_CODE_SYSTEM: Final = "urn:yunyi:diagnosis-input"
PAGE_SIZE: Final = 200
MAX_PAGES: Final = 5  # 1,000 Observations of the wanted codes: years of weekly vitals
USABLE_STATUSES: Final = "final,amended,corrected,preliminary"


@dataclass
class RecordInputs:
    """What the record holds for the wanted inputs: values by input name (the newest), the
    patient's administrative sex, and how many searches it took."""

    patient_id: str
    gender: str | None
    values: dict[str, InputValue] = field(default_factory=dict)
    searches: int = 0


def spec_codes(spec: InputSpec) -> list[tuple[str, str]]:
    """The (system, code) pairs an Observation of `spec` may carry."""
    if spec.loinc is None:
        return [(INPUT_CODE_SYSTEM, spec.name)]
    return [(LOINC, code) for code in (spec.loinc, *spec.loinc_alternates)]


def _wanted(tasks: Iterable[Task]) -> dict[tuple[str, str], str]:
    wanted: dict[tuple[str, str], str] = {}
    for task in tasks:
        for spec in task.inputs:
            if spec.fhir_source == "Patient.birthDate":
                continue
            for pair in spec_codes(spec):
                wanted[pair] = spec.name
    return wanted


def _codings(concept: Any) -> Iterator[tuple[str, str]]:
    if isinstance(concept, dict):
        for coding in concept.get("coding") or ():
            if isinstance(coding, dict):
                yield str(coding.get("system", "")), str(coding.get("code", ""))


def _effective(observation: Mapping[str, Any]) -> str | None:
    period = observation.get("effectivePeriod")
    found = (
        observation.get("effectiveDateTime")
        or observation.get("effectiveInstant")
        or (period.get("start") if isinstance(period, dict) else None)
        or observation.get("issued")
    )
    return str(found) if found else None


def _quantity(node: Mapping[str, Any]) -> tuple[Any, str] | None:
    """(value, unit) of a valueQuantity (or a count in valueInteger); None when the node has no
    value (e.g. a dataAbsentReason), so an older Observation with a value is used instead."""
    if "valueInteger" in node:
        return node["valueInteger"], "1"
    quantity = node.get("valueQuantity")
    if not isinstance(quantity, dict) or "value" not in quantity:
        return None
    # A quantity without a unit is not assumed to be in the model's unit: "" is refused.
    unit = quantity.get("code") or quantity.get("unit") or ""
    return quantity["value"], str(unit)


def observation_values(
    observation: Mapping[str, Any], wanted: Mapping[tuple[str, str], str]
) -> Iterator[tuple[str, Any, str]]:
    """(input name, value, unit) for each wanted code in the Observation or its components."""
    nodes = [observation, *(c for c in observation.get("component") or () if isinstance(c, dict))]
    for node in nodes:
        for pair in _codings(node.get("code")):
            name = wanted.get(pair)
            if name is None:
                continue
            quantity = _quantity(node)
            if quantity is not None:
                yield name, quantity[0], quantity[1]
            break


def age_in_years(*, birth_date: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - int(before_birthday)


def record_inputs_read(*, actor: Actor, patient_id: str, tasks: Iterable[Task]) -> RecordInputs:
    """The newest value of every input of `tasks` in Patient/`patient_id`'s record. Raises the
    emr's `ApplicationError` (403 or 404) when the actor may not see that patient."""
    tasks = list(tasks)
    patient = record_read(actor=actor, resource_type="Patient", resource_id=patient_id).resource
    patient = patient or {}
    found = RecordInputs(patient_id=patient_id, gender=patient.get("gender"))
    birth = patient.get("birthDate")
    if isinstance(birth, str) and len(birth) == 10:
        born = date.fromisoformat(birth)
        years = age_in_years(birth_date=born, on=timezone.localdate())
        age = InputValue(value=years, unit="a", effective=birth, source=f"Patient/{patient_id}")
        for task in tasks:
            for spec in task.inputs:
                if spec.fhir_source == "Patient.birthDate":
                    found.values[spec.name] = age
    wanted = _wanted(tasks)
    missing = set(wanted.values()) - set(found.values)
    if not missing:
        return found
    params = [
        ("patient", f"Patient/{patient_id}"),
        ("combo-code", ",".join(f"{system}|{code}" for system, code in sorted(wanted))),
        ("status", USABLE_STATUSES),
        ("_sort", "-date"),
        ("_count", str(PAGE_SIZE)),
    ]
    cursor: str | None = None
    for _page in range(MAX_PAGES):
        result = record_search(
            actor=actor, resource_type="Observation", params=params, cursor=cursor
        )
        found.searches += 1
        for stored in result.page.resources:
            observation = stored.resource or {}
            for name, value, unit in observation_values(observation, wanted):
                if name in missing:
                    missing.discard(name)
                    found.values[name] = InputValue(
                        value=value,
                        unit=unit,
                        effective=_effective(observation),
                        source=f"Observation/{stored.id}",
                    )
        cursor = result.page.next_cursor
        if not missing or not cursor:
            break
    return found
