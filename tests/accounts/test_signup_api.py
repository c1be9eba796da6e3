import json
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from yunyi.accounts.models import RoleGrant, SignupChallenge, User
from yunyi.accounts.senders import SentCode
from yunyi.audit.models import AuditEntry

START = "/api/v1/accounts/signup/start"
CONFIRM = "/api/v1/accounts/signup/confirm"
PASSWORD = "Blue-Lantern-7481"

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(client: Client, django_capture_on_commit_callbacks: Any) -> Any:
    """POST JSON, running on-commit callbacks (code delivery) as a committed request would."""

    def do(path: str, body: Any, **extra: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, body, content_type="application/json", **extra)

    return do


def _snapshot() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        SignupChallenge.objects.count(),
        RoleGrant.objects.count(),
        AuditEntry.objects.count(),
    )


def test_signup_by_phone_sends_a_code_and_creates_a_patient(
    post: Any, code_outbox: list[SentCode]
) -> None:
    started = post(START, {"channel": "phone", "address": "+86 138-0013-8000"})
    assert started.status_code == 202
    assert started.json()["expires_in"] == 600
    assert code_outbox == [
        SentCode(channel="phone", address="13800138000", code=code_outbox[0].code)
    ]
    assert len(code_outbox[0].code) == 6 and code_outbox[0].code.isdigit()

    confirmed = post(
        CONFIRM,
        {
            "signup_id": started.json()["signup_id"],
            "code": code_outbox[0].code,
            "password": PASSWORD,
            "display_name": " 小王 ",
        },
    )
    assert confirmed.status_code == 201
    me = confirmed.json()
    assert me["username"] == "13800138000"
    assert me["phone"] == "13800138000"
    assert me["email"] is None
    assert me["display_name"] == "小王"
    assert me["roles"] == ["patient"]
    assert me["real_name"] is None
    assert me["mfa"] == {"totp_enabled": False, "required": False}
    user = User.objects.get(username="13800138000")
    assert user.check_password(PASSWORD)
    assert user.password.startswith("argon2")
    entry = AuditEntry.objects.get(action="accounts.signup")
    assert entry.object_id == str(user.pk)
    assert entry.detail == {"channel": "phone"}


def test_signup_by_email_normalises_the_address(post: Any, code_outbox: list[SentCode]) -> None:
    started = post(START, {"channel": "email", "address": " Li.Na@Example.COM "})
    assert started.status_code == 202
    confirmed = post(
        CONFIRM,
        {
            "signup_id": started.json()["signup_id"],
            "code": code_outbox[0].code,
            "password": PASSWORD,
            "display_name": "李娜",
        },
    )
    assert confirmed.status_code == 201
    assert confirmed.json()["email"] == "li.na@example.com"
    assert confirmed.json()["username"] == "li.na@example.com"


def test_console_sender_prints_the_code_with_the_address_masked(
    post: Any, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.ACCOUNTS_CODE_SENDER = "console"
    response = post(START, {"channel": "phone", "address": "13800138000"})
    assert response.status_code == 202
    out = capsys.readouterr().out
    code = out.strip().rsplit(": ", 1)[1]
    assert out == f"Yunyi code for 138****8000: {code}\n"
    assert len(code) == 6


def test_the_code_is_stored_only_as_a_hash(post: Any, code_outbox: list[SentCode]) -> None:
    post(START, {"channel": "phone", "address": "13800138000"})
    challenge = SignupChallenge.objects.get()
    assert code_outbox[0].code not in challenge.code_hash
    assert len(challenge.code_hash) == 64


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"channel": "phone", "address": "12345"}, 400, "invalid_address"),
        ({"channel": "phone", "address": "23800138000"}, 400, "invalid_address"),
        ({"channel": "phone", "address": "1380013800a"}, 400, "invalid_address"),
        ({"channel": "email", "address": "not-an-email"}, 400, "invalid_address"),
        (
            {"channel": "email", "address": "a@b.c'; DROP TABLE accounts_user;--"},
            400,
            "invalid_address",
        ),
        ({"channel": "fax", "address": "13800138000"}, 422, "invalid_request"),
        ({"channel": "phone", "address": 13800138000}, 422, "invalid_request"),
        ({"channel": "phone"}, 422, "invalid_request"),
        ({"channel": "phone", "address": "13800138000", "role": "admin"}, 422, "invalid_request"),
        ({"channel": "email", "address": "a" * 300 + "@example.com"}, 422, "invalid_request"),
        (["phone", "13800138000"], 422, "invalid_request"),
    ],
)
def test_signup_start_refuses_bad_input(
    post: Any, code_outbox: list[SentCode], body: Any, status: int, code: str
) -> None:
    before = _snapshot()
    response = post(START, body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert _snapshot() == before
    assert code_outbox == []


def test_signup_start_refuses_malformed_json(client: Client, code_outbox: list[SentCode]) -> None:
    before = _snapshot()
    response = client.post(
        START, '{"channel": "phone", "address": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert _snapshot() == before


def test_signup_start_refuses_an_oversized_body_with_413(
    client: Client, code_outbox: list[SentCode]
) -> None:
    before = _snapshot()
    huge = json.dumps(
        {"channel": "phone", "address": "1" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    )
    response = client.post(START, huge, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert _snapshot() == before


def test_signup_confirm_refuses_an_oversized_body_with_413(client: Client) -> None:
    before = _snapshot()
    body = json.dumps(
        {
            "signup_id": "x",
            "code": "1",
            "password": "p" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
            "display_name": "x",
        }
    )
    response = client.post(CONFIRM, body, content_type="application/json")
    assert response.status_code == 413
    assert _snapshot() == before


def test_signup_for_a_registered_address_answers_409(
    post: Any, code_outbox: list[SentCode], make_user: Any
) -> None:
    make_user(username="13800138000", phone="13800138000")
    before = _snapshot()
    response = post(START, {"channel": "phone", "address": "138 0013 8000"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_registered"
    assert _snapshot() == before
    assert code_outbox == []


def test_duplicate_signup_confirm_after_the_first_succeeded_is_refused(
    post: Any, code_outbox: list[SentCode]
) -> None:
    first = post(START, {"channel": "phone", "address": "13800138000"})
    second = post(START, {"channel": "phone", "address": "13800138000"}, REMOTE_ADDR="10.0.0.2")
    assert second.status_code == 429  # resend too soon
    ok = post(
        CONFIRM,
        {
            "signup_id": first.json()["signup_id"],
            "code": code_outbox[0].code,
            "password": PASSWORD,
            "display_name": "甲",
        },
    )
    assert ok.status_code == 201
    before = _snapshot()
    again = post(
        CONFIRM,
        {
            "signup_id": first.json()["signup_id"],
            "code": code_outbox[0].code,
            "password": PASSWORD,
            "display_name": "乙",
        },
    )
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_code"
    assert _snapshot() == before
    restart = post(START, {"channel": "phone", "address": "13800138000"})
    assert restart.status_code == 409
    assert restart.json()["error"]["code"] == "already_registered"


def test_codes_requested_too_often_answer_429_with_retry_after(
    post: Any, code_outbox: list[SentCode]
) -> None:
    assert post(START, {"channel": "phone", "address": "13800138000"}).status_code == 202
    before = _snapshot()
    response = post(START, {"channel": "phone", "address": "13800138000"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "code_rate_limited"
    assert 1 <= response.json()["error"]["details"]["retry_after"] <= 60
    assert response["Retry-After"] == str(response.json()["error"]["details"]["retry_after"])
    assert _snapshot() == before
    assert len(code_outbox) == 1


def test_codes_per_address_per_hour_are_capped(
    post: Any, code_outbox: list[SentCode], settings: Any
) -> None:
    settings.ACCOUNTS_SIGNUP_RESEND_SECONDS = 0
    for _ in range(5):
        assert post(START, {"channel": "phone", "address": "13800138000"}).status_code == 202
    response = post(START, {"channel": "phone", "address": "13800138000"})
    assert response.status_code == 429
    assert response.json()["error"]["details"]["retry_after"] > 3500
    assert SignupChallenge.objects.count() == 5


def test_codes_per_requesting_ip_per_hour_are_capped(
    post: Any, code_outbox: list[SentCode], settings: Any
) -> None:
    settings.ACCOUNTS_SIGNUP_CODES_PER_IP_PER_HOUR = 3
    for n in range(3):
        assert post(START, {"channel": "phone", "address": f"1380013800{n}"}).status_code == 202
    response = post(START, {"channel": "phone", "address": "13800138009"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "code_rate_limited"
    assert SignupChallenge.objects.count() == 3


def _start(post: Any, outbox: list[SentCode]) -> tuple[str, str]:
    response = post(START, {"channel": "phone", "address": "13800138000"})
    return response.json()["signup_id"], outbox[-1].code


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_wrong_code_is_refused_and_counted(post: Any, code_outbox: list[SentCode]) -> None:
    signup_id, code = _start(post, code_outbox)
    before = _snapshot()
    response = post(
        CONFIRM,
        {"signup_id": signup_id, "code": _wrong(code), "password": PASSWORD, "display_name": "甲"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    assert _snapshot() == before
    assert SignupChallenge.objects.get().attempts == 1


def test_code_is_dead_after_five_wrong_tries(post: Any, code_outbox: list[SentCode]) -> None:
    signup_id, code = _start(post, code_outbox)
    for _ in range(5):
        post(
            CONFIRM,
            {
                "signup_id": signup_id,
                "code": _wrong(code),
                "password": PASSWORD,
                "display_name": "甲",
            },
        )
    before = _snapshot()
    response = post(
        CONFIRM, {"signup_id": signup_id, "code": code, "password": PASSWORD, "display_name": "甲"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    assert _snapshot() == before


def test_expired_code_is_refused(post: Any, code_outbox: list[SentCode]) -> None:
    signup_id, code = _start(post, code_outbox)
    challenge = SignupChallenge.objects.get()
    SignupChallenge.objects.filter(pk=challenge.pk).update(
        expires_at=challenge.created_at - timedelta(seconds=1)
    )
    before = _snapshot()
    response = post(
        CONFIRM, {"signup_id": signup_id, "code": code, "password": PASSWORD, "display_name": "甲"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    assert _snapshot() == before


def test_a_newer_code_supersedes_the_older_one(
    post: Any, code_outbox: list[SentCode], settings: Any
) -> None:
    settings.ACCOUNTS_SIGNUP_RESEND_SECONDS = 0
    old_id, old_code = _start(post, code_outbox)
    _start(post, code_outbox)
    response = post(
        CONFIRM, {"signup_id": old_id, "code": old_code, "password": PASSWORD, "display_name": "甲"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"


@pytest.mark.parametrize("signup_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_signup_id_is_an_invalid_code(post: Any, signup_id: str) -> None:
    before = _snapshot()
    response = post(
        CONFIRM,
        {"signup_id": signup_id, "code": "123456", "password": PASSWORD, "display_name": "甲"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short", "This password is too short. It must contain at least 8 characters."),
        ("12345678901", "This password is entirely numeric."),
        ("password123", "This password is too common."),
        ("13800138000x", "The password is too similar to the username."),
    ],
)
def test_weak_password_answers_422_with_the_validator_messages_and_keeps_the_code(
    post: Any, code_outbox: list[SentCode], password: str, expected: str
) -> None:
    signup_id, code = _start(post, code_outbox)
    before = _snapshot()
    with_english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    response = post(
        CONFIRM,
        {"signup_id": signup_id, "code": code, "password": password, "display_name": "甲"},
        **with_english,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "weak_password"
    assert expected in response.json()["error"]["details"]["messages"]
    assert _snapshot() == before
    retry = post(
        CONFIRM, {"signup_id": signup_id, "code": code, "password": PASSWORD, "display_name": "甲"}
    )
    assert retry.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"code": "123456", "password": PASSWORD, "display_name": "甲"},
        {"signup_id": "x", "code": 123456, "password": PASSWORD, "display_name": "甲"},
        {"signup_id": "x", "code": "123456", "password": PASSWORD, "display_name": "   "},
        {
            "signup_id": "x",
            "code": "123456",
            "password": PASSWORD,
            "display_name": "甲",
            "is_staff": True,
        },
        {"signup_id": "x", "code": "123456", "password": PASSWORD, "display_name": "甲" * 101},
    ],
)
def test_signup_confirm_refuses_wrong_types_and_unknown_fields(
    post: Any, body: dict[str, Any]
) -> None:
    before = _snapshot()
    response = post(CONFIRM, body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert _snapshot() == before


def test_error_messages_follow_the_language_chinese_by_default(post: Any) -> None:
    zh = post(START, {"channel": "phone", "address": "123"})
    en = post(START, {"channel": "phone", "address": "123"}, HTTP_ACCEPT_LANGUAGE="en")
    assert zh.json()["error"]["message"] == "请输入中国大陆手机号（11 位）。"
    assert en.json()["error"]["message"] == "Enter a mainland China mobile number (11 digits)."
