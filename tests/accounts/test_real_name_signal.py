"""Real-name verification announces itself (`yunyi.accounts.signals.real_name_verified`) after
its transaction commits, never on refusal; with the record app listening, a patient verified
through the API sees their FHIR Patient at once ("My record")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from tests.conftest import MakeUser
from yunyi.accounts.signals import real_name_verified

pytestmark = pytest.mark.django_db

REAL_NAME = "/api/v1/me/real-name"


@pytest.fixture
def announced() -> Iterator[list[Any]]:
    heard: list[Any] = []

    def listen(sender: Any, *, user: Any, **kwargs: Any) -> None:
        heard.append(user.pk)

    real_name_verified.connect(listen, dispatch_uid="test-listener")
    yield heard
    real_name_verified.disconnect(dispatch_uid="test-listener")


def _verify(client: Client, resident_id: str = "11010519491231002X") -> Any:
    return client.post(
        REAL_NAME,
        {"legal_name": "王小明", "resident_id": resident_id},
        content_type="application/json",
    )


def test_verification_is_announced_only_once_committed(
    make_user: MakeUser,
    api_client_for: Callable[..., Client],
    announced: list[Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    user = make_user(roles=["patient"])
    with django_capture_on_commit_callbacks(execute=False) as pending:
        assert _verify(api_client_for(user)).status_code == 200
    assert announced == []
    for callback in pending:
        callback()
    assert announced == [user.pk]


def test_refused_verification_is_not_announced(
    make_user: MakeUser,
    api_client_for: Callable[..., Client],
    announced: list[Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as pending:
        response = _verify(api_client_for(make_user()), resident_id="110105194912310021")
    assert response.status_code == 400
    assert pending == []
    assert announced == []


def test_verified_patient_reads_their_patient_resource(
    make_user: MakeUser,
    api_client_for: Callable[..., Client],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    user = make_user(roles=["patient"])
    with django_capture_on_commit_callbacks(execute=True):
        assert _verify(api_client_for(user)).status_code == 200

    record = api_client_for(user, scope="patient/*.rs").get(
        f"/fhir/R4/Patient/{user.pk}", HTTP_ACCEPT="application/fhir+json"
    )

    assert record.status_code == 200
    patient = record.json()
    assert patient["name"][0]["text"] == "王小明"
    assert (patient["gender"], patient["birthDate"]) == ("female", "1949-12-31")
    assert "11010519491231002X" not in record.content.decode()
