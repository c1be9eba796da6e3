"""Licence submission and the administrators' review queue: status rules, reasons, audit, and
the effect on who is listed."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from yunyi.accounts.models import User
from yunyi.audit.models import AuditEntry
from yunyi.practitioners.models import DoctorProfile, Licence, LicenceDocument
from yunyi.privacy.fields import decrypt_field

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a certificate scan\n"


def upload(content: bytes, name: str, content_type: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def doctor(make_doctor: Callable[..., User]) -> User:
    return make_doctor(status=None)


@pytest.fixture
def doctor_client(doctor: User, api_client_for: Callable[..., Client]) -> Client:
    return api_client_for(doctor)


@pytest.fixture
def admin_client(admin_user: User, api_client_for: Callable[..., Client]) -> Client:
    return api_client_for(admin_user)


def submit(client: Client, number: str = "110310000012345", **files: Any) -> Any:
    return client.post("/api/v1/doctors/me/licence", {"number": number, **files})


def decide(client: Client, licence_id: str, decision: str, reason: str = "") -> Any:
    return client.post(
        f"/api/v1/licences/{licence_id}/decision",
        json.dumps({"decision": decision, "reason": reason}),
        content_type="application/json",
    )


def test_submitted_licence_is_encrypted_masked_and_audited(
    doctor_client: Client, doctor: User
) -> None:
    response = submit(
        doctor_client, "1103 1000 0012 345", documents=upload(PDF, "c.pdf", "application/pdf")
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["number_masked"] == "11*********2345"
    assert body["document_count"] == 1
    licence = Licence.objects.get(doctor=doctor)
    assert b"110310000012345" not in bytes(licence.number_ciphertext)
    assert (
        decrypt_field(licence.number_ciphertext, associated_data=licence.number_associated_data())
        == "110310000012345"
    )
    entry = AuditEntry.objects.get(action="practitioners.licence_submitted")
    assert entry.object_id == str(licence.id)
    assert entry.actor_id == str(doctor.pk)
    assert "110310000012345" not in json.dumps(entry.detail)


@pytest.mark.parametrize(
    ("number", "files", "code"),
    [
        ("12", {}, "invalid_licence_number"),
        ("<script>1234567</script>", {}, "invalid_licence_number"),
        (
            "110310000012345",
            {"documents": ("c.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
            "invalid_document",
        ),
        (
            "110310000012345",
            {"documents": ("c.svg", b"<svg/>", "image/svg+xml")},
            "invalid_document",
        ),
    ],
)
def test_bad_licence_submissions_are_refused(
    doctor_client: Client, number: str, files: dict[str, Any], code: str
) -> None:
    given = {key: upload(content, name, kind) for key, (name, content, kind) in files.items()}
    response = submit(doctor_client, number, **given)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Licence.objects.exists()
    assert not LicenceDocument.objects.exists()


def test_too_many_documents_are_refused(doctor_client: Client) -> None:
    files = [upload(PDF, f"c{i}.pdf", "application/pdf") for i in range(6)]
    response = submit(doctor_client, documents=files)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_document"
    assert not Licence.objects.exists()


def test_one_open_licence_per_doctor_and_per_number(
    doctor_client: Client, make_doctor: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    assert submit(doctor_client).status_code == 201
    again = submit(doctor_client, "220310000012345")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "licence_open"

    other = api_client_for(make_doctor(status=None))
    taken = submit(other, "110310000012345")
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "licence_number_taken"
    assert Licence.objects.count() == 1


def test_licence_needs_a_profile(
    make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    response = submit(api_client_for(make_user(roles=["doctor"])))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "profile_missing"


def test_admin_verifies_pending_licence_and_doctor_becomes_listed(
    doctor_client: Client, admin_client: Client, doctor: User, admin_user: User
) -> None:
    licence_id = submit(doctor_client).json()["id"]
    queue = admin_client.get("/api/v1/licences", {"status": "pending"}).json()
    assert [item["id"] for item in queue["items"]] == [licence_id]
    assert queue["items"][0]["doctor_name"] == "测试医生"
    assert Client().get("/api/v1/doctors").json()["count"] == 0

    response = decide(admin_client, licence_id, "verify")

    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    assert DoctorProfile.objects.get(user=doctor).is_verified is True
    assert [d["id"] for d in Client().get("/api/v1/doctors").json()["items"]] == [str(doctor.pk)]
    entry = AuditEntry.objects.get(action="practitioners.licence_verify")
    assert entry.actor_id == str(admin_user.pk)
    assert entry.actor_role == "admin"
    assert entry.detail == {"from": "pending", "to": "verified", "doctor_id": str(doctor.pk)}
    assert admin_client.get("/api/v1/licences", {"status": "pending"}).json()["count"] == 0


def test_queue_is_first_come_first_served_and_decisions_show_the_latest_first(
    make_doctor: Any, admin_client: Client
) -> None:
    first, second, third = (make_doctor(status="pending") for _ in range(3))

    def ids(status: str) -> list[str]:
        items = admin_client.get("/api/v1/licences", {"status": status}).json()["items"]
        return [item["doctor_id"] for item in items]

    assert ids("pending") == [str(first.pk), str(second.pk), str(third.pk)]
    pending = admin_client.get("/api/v1/licences", {"status": "pending"}).json()["items"]
    by_doctor = {item["doctor_id"]: item["id"] for item in pending}
    for doctor in (first, second):
        assert decide(admin_client, by_doctor[str(doctor.pk)], "verify").status_code == 200
    assert ids("verified") == [str(second.pk), str(first.pk)]  # the latest decision first
    assert ids("pending") == [str(third.pk)]


def test_suspension_hides_doctor_and_reinstatement_needs_reason(
    doctor_client: Client, admin_client: Client, doctor: User
) -> None:
    licence_id = submit(doctor_client).json()["id"]
    decide(admin_client, licence_id, "verify")

    no_reason = decide(admin_client, licence_id, "suspend", "   ")
    assert no_reason.status_code == 400
    assert no_reason.json()["error"]["code"] == "reason_required"
    assert DoctorProfile.objects.get(user=doctor).is_verified is True

    assert (
        decide(admin_client, licence_id, "suspend", "投诉调查中").json()["reason"] == "投诉调查中"
    )
    assert Client().get("/api/v1/doctors").json()["count"] == 0
    assert Client().get(f"/api/v1/doctors/{doctor.pk}").status_code == 404

    assert decide(admin_client, licence_id, "reinstate", "调查结束").json()["status"] == "verified"
    assert Client().get("/api/v1/doctors").json()["count"] == 1
    actions = list(AuditEntry.objects.filter(object_id=licence_id).values_list("action", flat=True))
    assert actions == [
        "practitioners.licence_submitted",
        "practitioners.licence_verify",
        "practitioners.licence_suspend",
        "practitioners.licence_reinstate",
    ]


def test_rejected_doctor_may_submit_again(doctor_client: Client, admin_client: Client) -> None:
    first = submit(doctor_client).json()["id"]
    assert decide(admin_client, first, "reject", "证书照片不清晰").status_code == 200
    mine = doctor_client.get("/api/v1/doctors/me/profile").json()["licence"]
    assert mine["status"] == "rejected"
    assert mine["reason"] == "证书照片不清晰"
    assert submit(doctor_client).status_code == 201


@pytest.mark.parametrize(
    ("steps", "decision", "code"),
    [
        ([], "suspend", "invalid_decision"),
        ([], "reinstate", "invalid_decision"),
        (["verify"], "verify", "invalid_decision"),
        (["verify"], "reject", "invalid_decision"),
        (["reject"], "verify", "invalid_decision"),
    ],
)
def test_decisions_follow_the_status_rules(
    doctor_client: Client, admin_client: Client, steps: list[str], decision: str, code: str
) -> None:
    licence_id = submit(doctor_client).json()["id"]
    for step in steps:
        decide(admin_client, licence_id, step, "reason")
    before = Licence.objects.get(pk=licence_id).status
    audits = AuditEntry.objects.count()

    response = decide(admin_client, licence_id, decision, "reason")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == code
    assert Licence.objects.get(pk=licence_id).status == before
    assert AuditEntry.objects.count() == audits


def test_only_admins_review(doctor_client: Client, doctor: User) -> None:
    licence_id = submit(doctor_client).json()["id"]
    assert doctor_client.get("/api/v1/licences").status_code == 403
    response = decide(doctor_client, licence_id, "verify")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_an_admin"
    assert Licence.objects.get(pk=licence_id).status == "pending"


@pytest.mark.parametrize("licence_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_unknown_licence_is_not_found(admin_client: Client, licence_id: str) -> None:
    response = decide(admin_client, licence_id, "verify")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "licence_not_found"


def test_bad_queue_filter_and_decision_are_refused(
    admin_client: Client, doctor_client: Client
) -> None:
    assert (
        admin_client.get("/api/v1/licences", {"status": "approved"}).json()["error"]["code"]
        == "invalid_search"
    )
    licence_id = submit(doctor_client).json()["id"]
    response = decide(admin_client, licence_id, "approve")
    assert response.status_code == 422
    assert Licence.objects.get(pk=licence_id).status == "pending"


def test_admin_reads_a_document_and_the_read_is_audited(
    doctor_client: Client, admin_client: Client
) -> None:
    licence_id = submit(doctor_client, documents=upload(PDF, "c.pdf", "application/pdf")).json()[
        "id"
    ]

    response = admin_client.get(f"/api/v1/licences/{licence_id}/documents/0")

    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment"
    assert (
        AuditEntry.objects.filter(
            action="practitioners.licence_document_read", object_id=licence_id
        ).count()
        == 1
    )
    assert admin_client.get(f"/api/v1/licences/{licence_id}/documents/1").status_code == 404
    assert doctor_client.get(f"/api/v1/licences/{licence_id}/documents/0").status_code == 403


def test_photo_of_verified_doctor_is_public(
    make_doctor: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    from PIL import Image

    doctor = make_doctor()
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, format="PNG")
    out.seek(0)
    out.name = "p.png"
    api_client_for(doctor).post("/api/v1/doctors/me/profile/photo", {"photo": out})

    card = Client().get("/api/v1/doctors").json()["items"][0]
    photo = Client().get(card["photo_url"])

    assert photo.status_code == 200
    assert photo["Content-Type"] == "image/jpeg"
    assert photo.content.startswith(b"\xff\xd8\xff")
