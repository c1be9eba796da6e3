"""The signed-in user's `GET /api/v1/me` is the hot path of every page: it stays at two queries
(the bearer token with its user, roles, client and policy; the real-name facts with the TOTP
state), and its hand-rendered body keeps the shape of the documented `MeOut` schema."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from yunyi.accounts.schemas import MeOut

pytestmark = pytest.mark.django_db


def test_me_of_a_verified_staff_user_with_totp_takes_two_queries(
    make_user: Any,
    make_totp_device: Callable[..., Any],
    api_client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    user = make_user(
        username="dr-wang",
        roles=["doctor", "patient"],
        real_name={"legal_name": "王医生"},
    )
    make_totp_device(user)
    client = api_client_for(user)
    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["roles"] == ["doctor", "patient"]
    assert body["real_name"]["legal_name"] == "王医生"
    assert body["mfa"] == {"totp_enabled": True, "required": True}


def test_me_of_a_user_without_roles_real_name_or_totp_takes_two_queries(
    make_user: Any, api_client_for: Callable[..., Client], django_assert_max_num_queries: Any
) -> None:
    client = api_client_for(make_user(username="bare", roles=[]))
    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["roles"] == []
    assert response.json()["real_name"] is None
    assert response.json()["mfa"] == {"totp_enabled": False, "required": False}


def test_me_ignores_an_unconfirmed_totp_device(
    make_user: Any, make_totp_device: Callable[..., Any], api_client_for: Callable[..., Client]
) -> None:
    user = make_user(username="enrolling")
    make_totp_device(user, confirmed=False)
    response = api_client_for(user).get("/api/v1/me")
    assert response.json()["mfa"] == {"totp_enabled": False, "required": False}


def test_me_lists_each_confirmed_totp_device_once(
    make_user: Any, make_totp_device: Callable[..., Any], api_client_for: Callable[..., Client]
) -> None:
    user = make_user(username="two-devices", roles=["patient"], real_name=True)
    make_totp_device(user)
    make_totp_device(user)
    body = api_client_for(user).get("/api/v1/me").json()
    assert body["roles"] == ["patient"]
    assert body["mfa"] == {"totp_enabled": True, "required": True}


def test_me_body_has_exactly_the_shape_of_the_documented_schema(
    make_user: Any, make_totp_device: Callable[..., Any], api_client_for: Callable[..., Client]
) -> None:
    user = make_user(username="shape", roles=["patient"], real_name=True, email="s@example.com")
    make_totp_device(user)
    response = api_client_for(user).get("/api/v1/me")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    # The same answer the schema-validated endpoints (PATCH /me) give, field for field.
    patched = api_client_for(user).patch("/api/v1/me", {}, content_type="application/json")
    assert patched.status_code == 200
    assert body == patched.json()
    assert set(body) == set(MeOut.model_fields)
    assert MeOut.model_validate(body).real_name is not None
