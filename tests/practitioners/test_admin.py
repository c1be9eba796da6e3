"""The Django admin lists doctors and licences read-only, never showing the certificate number."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from yunyi.accounts.models import User

pytestmark = pytest.mark.django_db


def test_admin_lists_licences_masked_and_read_only(
    make_doctor: Callable[..., User],
    make_user: Callable[..., User],
    verified_login: Callable[[Client, User], Client],
) -> None:
    doctor = make_doctor(status="pending")
    licence = doctor.licences.get()
    staff = make_user(roles=["admin"], is_staff=True, is_superuser=True)
    client = verified_login(Client(), staff)

    listing = client.get("/admin/practitioners/licence/")
    detail = client.get(f"/admin/practitioners/licence/{licence.pk}/change/")
    profiles = client.get("/admin/practitioners/doctorprofile/")

    assert listing.status_code == 200
    assert licence.number_masked in listing.content.decode()
    assert detail.status_code == 200
    assert b"number_ciphertext" not in detail.content
    assert profiles.status_code == 200
    assert client.get("/admin/practitioners/licence/add/").status_code == 403
