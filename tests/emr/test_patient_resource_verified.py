"""A verified patient's FHIR Patient resource: created when real-name verification commits
(accounts' `real_name_verified` signal, received by the record), carrying the verified name,
gender and birth date but never the resident ID number; idempotent, and an existing Patient is
updated in place, not duplicated."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import transaction

from tests.accounts.factories import unique_resident_id
from tests.conftest import MakeUser
from tests.emr.api_support import system_client
from yunyi.accounts.services import real_name_verify
from yunyi.audit.models import AuditEntry
from yunyi.audit.services import AuditContext
from yunyi.emr.care import patient_record_ensure
from yunyi.emr.models import CurrentResource, ResourceVersion

pytestmark = pytest.mark.django_db

CONTEXT = AuditContext(client_id="pytest")


def _versions(user: Any) -> list[dict[str, Any]]:
    rows = ResourceVersion.objects.filter(resource_type="Patient", fhir_id=str(user.pk))
    return [row.document for row in rows.order_by("version_id")]


def _verify(user: Any, capture: Callable[..., Any], **options: Any) -> str:
    resident_id = unique_resident_id(**options)
    with capture(execute=True):
        real_name_verify(user=user, legal_name="李小龙", resident_id=resident_id, context=CONTEXT)
    return resident_id


def test_verification_creates_the_patient_with_verified_demographics(
    make_user: MakeUser, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    user = make_user(roles=["patient"], display_name="Bruce")

    resident_id = _verify(user, django_capture_on_commit_callbacks, birth_date=date(1990, 11, 27))

    [patient] = _versions(user)
    assert patient["id"] == str(user.pk)
    assert patient["name"] == [
        {"use": "official", "text": "李小龙", "family": "李", "given": ["小龙"]}
    ]
    assert patient["gender"] == "male"
    assert patient["birthDate"] == "1990-11-27"
    assert patient["identifier"] == [{"system": "urn:yunyi:user", "value": str(user.pk)}]
    text = json.dumps(patient)
    assert resident_id not in text and resident_id[-4:] not in text
    written = AuditEntry.objects.get(action="fhir.update", object_id=str(user.pk))
    assert (written.actor_role, written.actor_id) == ("system", "")


def test_verification_rolled_back_creates_no_patient(
    make_user: MakeUser, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    user = make_user(roles=["patient"])
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        real_name_verify(
            user=user,
            legal_name="李小龙",
            resident_id=unique_resident_id(),
            context=CONTEXT,
        )
        raise RuntimeError("rolled back")
    assert callbacks == []
    assert _versions(user) == []


def test_ensure_is_idempotent(
    make_user: MakeUser, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    user = make_user(roles=["patient"])
    _verify(user, django_capture_on_commit_callbacks)

    again = patient_record_ensure(user=user)
    once_more = patient_record_ensure(user=user)

    assert again.version_id == once_more.version_id == "1"
    assert len(_versions(user)) == 1


def test_existing_patient_is_updated_not_duplicated(
    make_user: MakeUser, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    user = make_user(roles=["patient"], display_name="小李")
    first = patient_record_ensure(user=user)
    assert first.resource is not None
    assert first.resource["name"] == [{"use": "official", "text": "小李"}]
    with_phone = {
        **first.resource,
        "telecom": [{"system": "phone", "value": "13800000000"}],
        "name": [*first.resource["name"], {"use": "nickname", "text": "Lee"}],
    }
    updated = system_client().put_fhir(f"Patient/{user.pk}", with_phone)
    assert updated.status_code == 200

    _verify(user, django_capture_on_commit_callbacks, birth_date=date(1985, 3, 2), female=True)

    versions = _versions(user)
    assert len(versions) == 3
    latest = versions[-1]
    assert latest["name"] == [
        {"use": "official", "text": "李小龙", "family": "李", "given": ["小龙"]},
        {"use": "nickname", "text": "Lee"},
    ]
    assert (latest["gender"], latest["birthDate"]) == ("female", "1985-03-02")
    assert latest["telecom"] == [{"system": "phone", "value": "13800000000"}]
    assert CurrentResource.objects.filter(resource_type="Patient").count() == 1
    found = system_client().get_fhir(f"Patient?identifier=urn:yunyi:user|{user.pk}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(user.pk)]


def test_ward_added_by_a_guardian_gets_a_patient(
    make_user: MakeUser,
    make_ward: Callable[..., Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    guardian = make_user(roles=["patient"])
    with django_capture_on_commit_callbacks(execute=True):
        ward = make_ward(guardian, legal_name="王小红", birth_date=date(2021, 5, 4))

    [patient] = _versions(ward)
    assert patient["name"][0]["text"] == "王小红"
    assert patient["birthDate"] == "2021-05-04"


def test_verified_clinician_gets_no_patient(
    make_user: MakeUser, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    doctor = make_user(roles=["doctor"])
    _verify(doctor, django_capture_on_commit_callbacks)
    assert _versions(doctor) == []
