"""The demo doctors load quickly, idempotently, and only verified ones are listed."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest
from django.test import Client

from yunyi.accounts.models import User
from yunyi.practitioners.demo import APPLICANTS, GENERATED, demo_load
from yunyi.practitioners.models import DoctorProfile, Licence
from yunyi.practitioners.selectors import matching_changes_since

pytestmark = pytest.mark.django_db


def test_demo_load_is_idempotent_and_fills_the_review_queue(
    make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    users = {
        "doctor1": make_user(roles=["doctor"], username="doctor1"),
        "doctor2": make_user(roles=["doctor"], username="doctor2"),
        "admin": make_user(roles=["admin"], username="admin"),
    }
    started = time.perf_counter()
    demo_load(users, io.StringIO())
    first_seconds = time.perf_counter() - started
    demo_load(users, io.StringIO())

    assert DoctorProfile.objects.count() == GENERATED + APPLICANTS + 2
    assert DoctorProfile.objects.filter(is_verified=True).count() == GENERATED + 2
    assert len(matching_changes_since(None).doctors) == GENERATED + 2
    assert Licence.objects.filter(status="pending").count() == APPLICANTS
    generated = User.objects.get(username="demo-doctor-000")
    assert not generated.has_usable_password()
    print(f"demo_load first run: {first_seconds:.2f} s")
    assert first_seconds < 10
    queue = api_client_for(users["admin"]).get("/api/v1/licences", {"status": "pending"})
    assert queue.json()["count"] == APPLICANTS
    doctor1 = Client().get(f"/api/v1/doctors/{users['doctor1'].pk}").json()
    assert doctor1["department"] == "endocrinology"
    assert doctor1["online"] is True
    assert len(doctor1["slots"]) > 0


def test_demo_applicants_bring_a_certificate_scan(
    make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    users = {
        name: make_user(roles=[role], username=name)
        for name, role in (("doctor1", "doctor"), ("doctor2", "doctor"), ("admin", "admin"))
    }
    demo_load(users, io.StringIO())
    admin = api_client_for(users["admin"])
    pending = admin.get("/api/v1/licences", {"status": "pending"}).json()["items"]

    scan = admin.get(f"/api/v1/licences/{pending[0]['id']}/documents/0")

    assert [item["document_count"] for item in pending] == [1] * APPLICANTS
    assert scan.status_code == 200
    assert scan.content.startswith(b"%PDF-")
