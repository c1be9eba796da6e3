from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_admin_login_is_our_sign_in_page_with_its_second_factor(client: Client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/o/login/?next=%2Fadmin%2F"


def test_admin_password_alone_does_not_open_the_admin(client: Client, make_user: Any) -> None:
    admin = make_user(roles=["admin"], is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_verified_with_totp_opens_the_admin(
    client: Client, make_user: Any, verified_login: Any
) -> None:
    admin = make_user(roles=["admin"], is_staff=True, is_superuser=True)
    verified_login(client, admin)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "<title>管理 | 云医管理后台</title>" in response.content.decode()
