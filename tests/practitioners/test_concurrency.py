"""Concurrent writes (PostgreSQL; SQLite serialises writers, so there is no race to test):
two submissions of one certificate, two decisions on one licence."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.test import Client

from yunyi.accounts.models import User
from yunyi.audit.models import AuditEntry
from yunyi.practitioners.models import Licence

WRITERS = 2


def _race(action: Callable[[int], int]) -> list[int]:
    barrier = threading.Barrier(WRITERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        try:
            barrier.wait()
            status = action(n)
            with lock:
                statuses.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(statuses)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_doctors_submitting_one_certificate_at_once_have_one_winner(
    make_doctor: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    assert connection.vendor == "postgresql"
    clients = [api_client_for(make_doctor(status=None)) for _ in range(WRITERS)]

    codes: list[str] = []

    def submit(n: int) -> int:
        response = clients[n].post("/api/v1/doctors/me/licence", {"number": "110310000099999"})
        if response.status_code != 201:
            codes.append(response.json()["error"]["code"])
        return response.status_code

    statuses = _race(submit)

    assert statuses == [201, 409]
    assert codes == ["licence_number_taken"]
    assert Licence.objects.count() == 1
    assert AuditEntry.objects.filter(action="practitioners.licence_submitted").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_deciding_one_licence_at_once_apply_one_decision(
    make_doctor: Callable[..., User],
    make_user: Callable[..., User],
    api_client_for: Callable[..., Client],
) -> None:
    assert connection.vendor == "postgresql"
    doctor = make_doctor(status="pending")
    licence = Licence.objects.get(doctor=doctor)
    admins = [api_client_for(make_user(roles=["admin"])) for _ in range(WRITERS)]
    decisions = ["verify", "reject"]

    statuses = _race(
        lambda n: (
            admins[n]
            .post(
                f"/api/v1/licences/{licence.id}/decision",
                json.dumps({"decision": decisions[n], "reason": "r"}),
                content_type="application/json",
            )
            .status_code
        )
    )

    assert statuses == [200, 409]
    licence.refresh_from_db()
    decided = AuditEntry.objects.filter(
        action__in=["practitioners.licence_verify", "practitioners.licence_reject"]
    )
    assert decided.count() == 1
    assert (
        licence.status
        == {"practitioners.licence_verify": "verified", "practitioners.licence_reject": "rejected"}[
            decided.get().action
        ]
    )
