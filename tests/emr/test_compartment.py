"""Which patients' records a resource belongs to (`compartment_patients`): the shortcut for a
plain `Patient/<id>` reference gives what walking the parameter's path gives, for every shape."""

from __future__ import annotations

from typing import Any

import pytest

from yunyi.emr.search import compartment
from yunyi.emr.search.compartment import compartment_patients

LOCAL = "https://yunyi.example/fhir/R4"


def _walked(
    resource: dict[str, Any], monkeypatch: pytest.MonkeyPatch, *, local_base: str | None = None
) -> frozenset[str]:
    """The general way alone: as if no type had a direct element."""
    with monkeypatch.context() as patched:
        patched.setattr(compartment, "_direct_element", lambda _type: None)
        return compartment_patients(resource, local_base=local_base)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ({"reference": "Patient/p-1"}, {"p-1"}),
        ({"reference": "Patient/p.1-2"}, {"p.1-2"}),
        ({"reference": "Patient/p-1/_history/3"}, {"p-1"}),
        ({"reference": f"{LOCAL}/Patient/p-1"}, {"p-1"}),
        ({"reference": "https://elsewhere.example/fhir/Patient/p-9"}, {"p-9"}),
        ({"reference": "Group/g-1"}, set()),
        ({"reference": "#contained"}, set()),
        ({"reference": "Patient?identifier=x|1"}, set()),
        ({"reference": "Patient/" + "x" * 65}, set()),
        ({"reference": "Patient/bad id"}, set()),
        ({"display": "no reference"}, set()),
        ({"reference": 7}, set()),
        (None, set()),
        ("Patient/p-1", set()),
    ],
)
def test_the_direct_element_agrees_with_walking_the_path(
    subject: Any, expected: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    condition: dict[str, Any] = {"resourceType": "Condition", "id": "c-1"}
    if subject is not None:
        condition["subject"] = subject
    assert compartment_patients(condition, local_base=LOCAL) == frozenset(expected)
    assert _walked(condition, monkeypatch, local_base=LOCAL) == frozenset(expected)


def test_types_without_a_one_step_path_take_the_general_way() -> None:
    assert compartment._direct_element("Condition") == "subject"
    assert compartment._direct_element("Appointment") is None  # participant.actor
    assert compartment._direct_element("Patient") is None
    assert compartment._direct_element("Organization") is None
    appointment = {
        "resourceType": "Appointment",
        "participant": [
            {"actor": {"reference": "Patient/p-1"}},
            {"actor": {"reference": "Practitioner/d-1"}},
            {"actor": {"reference": "Patient/p-2"}},
        ],
    }
    assert compartment_patients(appointment) == frozenset({"p-1", "p-2"})
    assert compartment_patients({"resourceType": "Patient", "id": "p-3"}) == frozenset({"p-3"})
