from typing import Any

import pytest
from django.test import Client

from yunyi.accounts.models import RealNameIdentity

pytestmark = pytest.mark.django_db


def test_admin_user_page_shows_roles_and_only_the_masked_resident_id(
    make_user: Any, verified_login: Any
) -> None:
    admin = make_user(roles=["admin"], is_staff=True, is_superuser=True)
    patient = make_user(real_name={"resident_id": "34052419800101001X", "legal_name": "王小明"})
    client = verified_login(Client(), admin)
    response = client.get(f"/admin/accounts/user/{patient.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    identity = RealNameIdentity.objects.get(user=patient)
    assert "3405**********001X" in page
    assert "王小明" in page
    assert "34052419800101001X" not in page
    assert identity.resident_id_index not in page
    assert 'name="role_grants-0-role"' in page


def test_admin_can_add_a_user(make_user: Any, verified_login: Any) -> None:
    admin = make_user(roles=["admin"], is_staff=True, is_superuser=True)
    client = verified_login(Client(), admin)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newdoc",
            "password1": "Sturdy-Pass-2026",
            "password2": "Sturdy-Pass-2026",
            "usable_password": "true",
            "role_grants-TOTAL_FORMS": "0",
            "role_grants-INITIAL_FORMS": "0",
            "real_name-TOTAL_FORMS": "0",
            "real_name-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    from yunyi.accounts.models import User

    assert User.objects.get(username="newdoc").check_password("Sturdy-Pass-2026")


def test_admin_index_names_our_apps_and_models_in_chinese(
    make_user: Any, verified_login: Any
) -> None:
    admin = make_user(roles=["admin"], is_staff=True, is_superuser=True)
    client = verified_login(Client(), admin)
    page = client.get("/admin/").content.decode()
    for name in ("账户", "监护关系", "医生：资料、执业证书与排班", "辅助诊断与分诊"):
        assert name in page
    for english in ("Guardian links", "Accounts", "Doctors: profiles", "Diagnosis suggestions"):
        assert english not in page
