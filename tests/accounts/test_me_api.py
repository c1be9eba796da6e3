import base64
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.factories import unique_resident_id
from yunyi.accounts.models import GuardianLink, RealNameIdentity, RoleGrant, User
from yunyi.accounts.resident_id import build_resident_id, check_character
from yunyi.audit.models import AuditEntry
from yunyi.privacy.fieldcrypto import key_id_of
from yunyi.privacy.fields import decrypt_field, key_ring

pytestmark = pytest.mark.django_db
REAL_NAME = "/api/v1/me/real-name"
TOTP = "/api/v1/me/mfa/totp"
WARDS = "/api/v1/me/wards"


def _snapshot() -> tuple[int, ...]:
    return (
        User.objects.count(),
        RealNameIdentity.objects.count(),
        GuardianLink.objects.count(),
        RoleGrant.objects.count(),
        TOTPDevice.objects.count(),
        AuditEntry.objects.count(),
    )


def _post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, body, content_type="application/json")


def test_me_describes_the_signed_in_user(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    user = make_user(
        username="li",
        roles=["patient"],
        display_name="李雷",
        email="li@example.com",
        phone="13700137000",
    )
    response = api_client_for(user).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.pk),
        "username": "li",
        "display_name": "李雷",
        "email": "li@example.com",
        "phone": "13700137000",
        "roles": ["patient"],
        "preferred_language": "zh-hans",
        "real_name": None,
        "mfa": {"totp_enabled": False, "required": False},
    }


def test_me_for_staff_says_mfa_is_required(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    response = api_client_for(make_user(roles=["doctor", "admin"])).get("/api/v1/me")
    assert response.json()["roles"] == ["admin", "doctor"]
    assert response.json()["mfa"] == {"totp_enabled": False, "required": True}


@pytest.mark.parametrize("token", ["expired", "unknown", "inactive"])
def test_me_refuses_bad_tokens(
    make_user: Any, api_client_for: Callable[..., Client], token: str
) -> None:
    user = make_user(is_active=token != "inactive")
    if token == "expired":
        client = api_client_for(user, expires_in=-1)
    elif token == "unknown":
        client = Client(headers={"Authorization": "Bearer not-a-token"})
    else:
        client = api_client_for(user)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_patch_me_changes_display_name_and_language(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    user = make_user()
    response = api_client_for(user).patch(
        "/api/v1/me",
        {"display_name": " 新名字 ", "preferred_language": "en"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["display_name"], response.json()["preferred_language"]) == (
        "新名字",
        "en",
    )
    user.refresh_from_db()
    assert (user.display_name, user.preferred_language) == ("新名字", "en")


@pytest.mark.parametrize(
    "body",
    [
        {"preferred_language": "fr"},
        {"display_name": ""},
        {"display_name": 5},
        {"display_name": "x" * 101},
        {"username": "root"},
        {"roles": ["admin"]},
    ],
)
def test_patch_me_refuses_bad_values_and_unknown_fields(
    make_user: Any, api_client_for: Callable[..., Client], body: dict[str, Any]
) -> None:
    user = make_user(display_name="原名")
    response = api_client_for(user).patch("/api/v1/me", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    user.refresh_from_db()
    assert (user.username, user.display_name, user.preferred_language) == (
        user.username,
        "原名",
        "zh-hans",
    )
    assert list(user.role_set()) == ["patient"]


# --- real-name verification ---


@pytest.mark.spec("GB 11643-1999", "8.2")
def test_real_name_verification_stores_the_number_encrypted_and_shows_it_masked(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    user = make_user()
    response = _post(
        api_client_for(user),
        REAL_NAME,
        {"legal_name": "王小明", "resident_id": "11010519491231002x"},
    )
    assert response.status_code == 200
    real_name = response.json()["real_name"]
    verified_at = real_name.pop("verified_at")
    assert real_name == {
        "legal_name": "王小明",
        "resident_id_masked": "1101**********002X",
        "birth_date": "1949-12-31",
        "sex": "female",
    }
    assert abs(datetime.fromisoformat(verified_at) - timezone.now()) < timedelta(minutes=1)
    identity = RealNameIdentity.objects.get(user=user)
    stored = bytes(identity.resident_id_ciphertext)
    assert b"11010519491231002X" not in stored
    assert key_id_of(stored) == key_ring().primary_kid
    assert (
        decrypt_field(stored, associated_data=identity.resident_id_associated_data())
        == "11010519491231002X"
    )
    assert "11010519491231002X" not in identity.resident_id_index
    audit = AuditEntry.objects.get(action="accounts.real_name_verified")
    assert (audit.object_id, audit.detail, audit.client_id) == (
        str(user.pk),
        {},
        "yunyi-test-client",
    )


def test_the_full_number_never_appears_in_the_me_response(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    client = api_client_for(make_user())
    _post(client, REAL_NAME, {"legal_name": "王小明", "resident_id": "34052419800101001X"})
    assert "34052419800101001X" not in client.get("/api/v1/me").content.decode()


def _valid_first17_with_bad_date(yyyymmdd: str) -> str:
    first17 = f"110101{yyyymmdd}123"
    return first17 + check_character(first17)


@pytest.mark.spec("GB 11643-1999", "8.2")
@pytest.mark.parametrize(
    ("resident_id", "status", "code"),
    [
        ("11010519491231002", 400, "invalid_resident_id"),
        ("110105194912310021", 400, "invalid_resident_id"),
        ("11010519491231002Y", 400, "invalid_resident_id"),
        ("' OR 1=1; --", 400, "invalid_resident_id"),
        (_valid_first17_with_bad_date("20230230"), 400, "implausible_birth_date"),
        (_valid_first17_with_bad_date("18991231"), 400, "implausible_birth_date"),
        (
            _valid_first17_with_bad_date(f"{date.today().year + 1}0101"),
            400,
            "implausible_birth_date",
        ),
        ("1" * 33, 422, "invalid_request"),
    ],
)
def test_real_name_verification_refuses_invalid_numbers(
    make_user: Any, api_client_for: Callable[..., Client], resident_id: str, status: int, code: str
) -> None:
    client = api_client_for(make_user())
    before = _snapshot()
    response = _post(client, REAL_NAME, {"legal_name": "王小明", "resident_id": resident_id})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert _snapshot() == before


@pytest.mark.parametrize("legal_name", ["   ", "王小明1", "<script>", "王\x00明"])
def test_real_name_verification_refuses_bad_legal_names(
    make_user: Any, api_client_for: Callable[..., Client], legal_name: str
) -> None:
    client = api_client_for(make_user())
    before = _snapshot()
    response = _post(
        client, REAL_NAME, {"legal_name": legal_name, "resident_id": "11010519491231002X"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_legal_name"
    assert _snapshot() == before


@pytest.mark.parametrize("legal_name", ["阿卜杜拉·买买提", "Mary-Jane O'Neil"])
def test_real_name_verification_accepts_names_with_separators(
    make_user: Any, api_client_for: Callable[..., Client], legal_name: str
) -> None:
    response = _post(
        api_client_for(make_user()),
        REAL_NAME,
        {"legal_name": legal_name, "resident_id": unique_resident_id()},
    )
    assert response.status_code == 200
    assert response.json()["real_name"]["legal_name"] == legal_name


def test_a_resident_id_can_belong_to_one_account_only(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    number = unique_resident_id()
    make_user(real_name={"resident_id": number})
    client = api_client_for(make_user())
    before = _snapshot()
    response = _post(client, REAL_NAME, {"legal_name": "王小明", "resident_id": number.lower()})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "resident_id_taken"
    assert _snapshot() == before


def test_real_name_cannot_be_verified_twice(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    user = make_user(real_name=True)
    before = _snapshot()
    response = _post(
        api_client_for(user),
        REAL_NAME,
        {"legal_name": "王小明", "resident_id": unique_resident_id()},
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_verified"
    assert _snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        {"legal_name": "王小明"},
        {"legal_name": "王小明", "resident_id": 110105194912310020},
        {"legal_name": "王小明", "resident_id": "11010519491231002X", "birth_date": "2000-01-01"},
    ],
)
def test_real_name_refuses_wrong_types_and_unknown_fields(
    make_user: Any, api_client_for: Callable[..., Client], body: dict[str, Any]
) -> None:
    client = api_client_for(make_user())
    before = _snapshot()
    response = _post(client, REAL_NAME, body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert _snapshot() == before


def test_real_name_refuses_malformed_json(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    client = api_client_for(make_user())
    before = _snapshot()
    response = client.post(REAL_NAME, "{legal_name: 1", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert _snapshot() == before


# --- TOTP enrolment ---


def test_totp_enrolment_gives_a_secret_uri_and_qr_code_then_confirms(
    make_user: Any, api_client_for: Callable[..., Client], totp_code: Any
) -> None:
    user = make_user(username="li")
    client = api_client_for(user)
    begun = client.post(TOTP)
    assert begun.status_code == 201
    body = begun.json()
    device = TOTPDevice.objects.get(pk=body["device_id"])
    assert device.confirmed is False
    assert base64.b32decode(body["secret"]) == device.bin_key
    assert (
        body["otpauth_uri"]
        == f"otpauth://totp/Yunyi%3Ali?secret={body['secret']}&algorithm=SHA1&digits=6&period=30&issuer=Yunyi"
    )
    assert body["qr_svg"].startswith("<svg")
    assert client.get("/api/v1/me").json()["mfa"] == {"totp_enabled": False, "required": False}

    confirmed = _post(client, f"{TOTP}/confirm", {"code": totp_code(device)})
    assert confirmed.status_code == 200
    assert confirmed.json()["mfa"] == {"totp_enabled": True, "required": True}
    audit = AuditEntry.objects.get(action="auth.mfa_enrolled")
    assert (audit.object_id, audit.detail) == (
        str(user.pk),
        {"method": "totp", "device_id": device.pk},
    )


def test_totp_enrolment_refuses_a_wrong_code(
    make_user: Any, api_client_for: Callable[..., Client], totp_code: Any
) -> None:
    client = api_client_for(make_user())
    device = TOTPDevice.objects.get(pk=client.post(TOTP).json()["device_id"])
    before = _snapshot()
    response = _post(
        client, f"{TOTP}/confirm", {"code": f"{(int(totp_code(device)) + 1) % 10**6:06d}"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_totp"
    assert _snapshot() == before
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is False


def test_totp_confirm_without_enrolment_is_invalid(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    client = api_client_for(make_user())
    response = _post(client, f"{TOTP}/confirm", {"code": "123456"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_totp"


def test_re_enrolment_replaces_the_old_device_only_once_confirmed(
    make_user: Any, api_client_for: Callable[..., Client], make_totp_device: Any, totp_code: Any
) -> None:
    user = make_user()
    old = make_totp_device(user)
    client = api_client_for(user)
    new_id = client.post(TOTP).json()["device_id"]
    assert set(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")) == {
        (old.pk, True),
        (new_id, False),
    }
    assert (
        _post(
            client, f"{TOTP}/confirm", {"code": totp_code(TOTPDevice.objects.get(pk=new_id))}
        ).status_code
        == 200
    )
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")) == [
        (new_id, True)
    ]


def test_patient_can_remove_totp_with_a_current_code(
    make_user: Any, api_client_for: Callable[..., Client], make_totp_device: Any, totp_code: Any
) -> None:
    user = make_user()
    device = make_totp_device(user)
    client = api_client_for(user)
    response = client.delete(TOTP, {"code": totp_code(device)}, content_type="application/json")
    assert response.status_code == 204
    assert TOTPDevice.objects.filter(user=user).count() == 0
    assert AuditEntry.objects.get(action="auth.mfa_removed").object_id == str(user.pk)


def test_removing_totp_needs_a_valid_code(
    make_user: Any, api_client_for: Callable[..., Client], make_totp_device: Any, totp_code: Any
) -> None:
    user = make_user()
    device = make_totp_device(user)
    client = api_client_for(user)
    before = _snapshot()
    response = client.delete(
        TOTP, {"code": totp_code(device, steps_from_now=-5)}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_totp"
    assert _snapshot() == before


def test_staff_cannot_remove_totp(
    make_user: Any, api_client_for: Callable[..., Client], make_totp_device: Any, totp_code: Any
) -> None:
    user = make_user(roles=["doctor"])
    device = make_totp_device(user)
    before = _snapshot()
    response = api_client_for(user).delete(
        TOTP, {"code": totp_code(device)}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "mfa_required"
    assert _snapshot() == before


# --- wards ---


def test_adding_a_ward_creates_a_passwordless_minor_and_grants_the_guardian_role(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    guardian = make_user(roles=["patient"])
    client = api_client_for(guardian)
    number = build_resident_id(region_code="440103", birth_date=date(2021, 5, 20), sequence=468)
    response = _post(
        client, WARDS, {"legal_name": "赵小宝", "resident_id": number, "relationship": "parent"}
    )
    assert response.status_code == 201
    ward_id = response.json().pop("id")
    assert response.json() | {"id": ward_id} == {
        "id": ward_id,
        "legal_name": "赵小宝",
        "resident_id_masked": number[:4] + "**********" + number[-4:],
        "birth_date": "2021-05-20",
        "sex": "female",
        "relationship": "parent",
    }
    ward = User.objects.get(pk=ward_id)
    assert ward.has_usable_password() is False
    assert ward.display_name == "赵小宝"
    assert list(ward.role_set()) == ["patient"]
    assert client.get("/api/v1/me").json()["roles"] == ["guardian", "patient"]
    assert client.get(WARDS).json() == [response.json() | {"id": ward_id}]
    assert AuditEntry.objects.get(action="accounts.ward_linked").object_id == ward_id


def test_a_ward_must_be_a_minor(make_user: Any, api_client_for: Callable[..., Client]) -> None:
    guardian = make_user()
    client = api_client_for(guardian)
    today = timezone.localdate()
    eighteen_today = today.replace(year=today.year - 18, day=min(today.day, 28)) - timedelta(days=1)
    before = _snapshot()
    response = _post(
        client,
        WARDS,
        {
            "legal_name": "赵大宝",
            "resident_id": unique_resident_id(birth_date=eighteen_today),
            "relationship": "parent",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_a_minor"
    assert _snapshot() == before
    assert "guardian" not in client.get("/api/v1/me").json()["roles"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"legal_name": "赵小宝", "resident_id": "11010519491231002Y", "relationship": "parent"},
            400,
            "invalid_resident_id",
        ),
        (
            {"legal_name": "赵小宝", "resident_id": "x", "relationship": "uncle"},
            422,
            "invalid_request",
        ),
        (
            {"legal_name": "赵小宝", "resident_id": "x", "relationship": "parent", "password": "x"},
            422,
            "invalid_request",
        ),
    ],
)
def test_adding_a_ward_refuses_bad_input(
    make_user: Any,
    api_client_for: Callable[..., Client],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    client = api_client_for(make_user())
    before = _snapshot()
    response = _post(client, WARDS, body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert _snapshot() == before


def test_a_child_already_registered_cannot_be_added_again(
    make_user: Any, api_client_for: Callable[..., Client]
) -> None:
    number = unique_resident_id(birth_date=date(2020, 1, 1))
    first = api_client_for(make_user())
    assert (
        _post(
            first, WARDS, {"legal_name": "赵小宝", "resident_id": number, "relationship": "parent"}
        ).status_code
        == 201
    )
    second = api_client_for(make_user())
    before = _snapshot()
    response = _post(
        second, WARDS, {"legal_name": "赵小宝", "resident_id": number, "relationship": "other"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "resident_id_taken"
    assert _snapshot() == before


def test_wards_list_only_shows_my_wards(
    make_user: Any, make_ward: Any, api_client_for: Callable[..., Client]
) -> None:
    mine, other = make_user(), make_user()
    ward = make_ward(mine, legal_name="张小明")
    make_ward(other, legal_name="李小红")
    response = api_client_for(mine).get(WARDS)
    assert [(w["id"], w["legal_name"]) for w in response.json()] == [(str(ward.pk), "张小明")]
