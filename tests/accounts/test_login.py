from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.factories import DEFAULT_PASSWORD
from yunyi.accounts import throttling
from yunyi.accounts.models import LoginThrottle, ThrottleScope, User
from yunyi.accounts.services import mfa_required, password_login, totp_confirmed, totp_login_verify
from yunyi.audit.models import AuditEntry
from yunyi.core.errors import ApplicationError

pytestmark = pytest.mark.django_db
ADDRESS = "203.0.113.7"


def _attempt(identifier: str, password: str, address: str = ADDRESS) -> tuple[int, str, Any]:
    try:
        password_login(identifier=identifier, password=password, address=address)
    except ApplicationError as exc:
        return exc.status, exc.code, exc.details
    return 200, "ok", None


def _failures(scope: str) -> list[int]:
    return sorted(LoginThrottle.objects.filter(scope=scope).values_list("failures", flat=True))


@pytest.mark.parametrize(
    "identifier", ["wang", "13900139000", "+86 139 0013 9000", "Wang@Example.com"]
)
def test_password_login_accepts_username_phone_or_email(make_user: Any, identifier: str) -> None:
    user = make_user(username="wang", phone="13900139000", email="wang@example.com")
    assert password_login(identifier=identifier, password=DEFAULT_PASSWORD, address=ADDRESS) == user


def test_wrong_password_and_unknown_account_get_the_same_answer(make_user: Any) -> None:
    make_user(username="wang")
    with pytest.raises(ApplicationError) as wrong:
        password_login(identifier="wang", password="nope", address=ADDRESS)
    with pytest.raises(ApplicationError) as unknown:
        password_login(identifier="nobody", password="nope", address=ADDRESS)
    assert (wrong.value.status, wrong.value.code, wrong.value.message, wrong.value.details) == (
        unknown.value.status,
        unknown.value.code,
        unknown.value.message,
        unknown.value.details,
    )
    assert (wrong.value.status, wrong.value.code) == (400, "invalid_credentials")


def test_failed_login_is_audited_without_the_identifier(make_user: Any) -> None:
    user = make_user(username="wang")
    _attempt("wang", "nope")
    _attempt("nobody", "nope")
    entries = list(AuditEntry.objects.filter(action="auth.login_failed").order_by("seq"))
    assert [(e.outcome, e.object_id, e.address, e.detail) for e in entries] == [
        ("failure", str(user.pk), ADDRESS, {"reason": "bad_credentials"}),
        ("failure", "", ADDRESS, {"reason": "bad_credentials"}),
    ]
    assert "nobody" not in str(entries[1].chained_fields())


def test_successful_password_login_is_not_audited_here(make_user: Any) -> None:
    make_user(username="wang")
    password_login(identifier="wang", password=DEFAULT_PASSWORD, address=ADDRESS)
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    "fields", [{"is_active": False}, {"password": None}], ids=["inactive", "no-usable-password"]
)
def test_inactive_or_passwordless_accounts_cannot_sign_in(
    make_user: Any, fields: dict[str, Any]
) -> None:
    password = fields.pop("password", DEFAULT_PASSWORD)
    make_user(username="wang", password=password, **fields)
    assert _attempt("wang", DEFAULT_PASSWORD)[:2] == (400, "invalid_credentials")


def test_after_three_failures_even_the_right_password_must_wait(
    make_user: Any, settings: Any
) -> None:
    # A long first wait, so a slow machine cannot outlast it between two attempts.
    settings.ACCOUNTS_LOGIN_SLOW_BASE_SECONDS = 30
    make_user(username="wang")
    for _ in range(3):
        assert _attempt("wang", "nope")[:2] == (400, "invalid_credentials")
    status, code, details = _attempt("wang", DEFAULT_PASSWORD)
    assert (status, code) == (429, "login_throttled")
    assert 25 <= details["retry_after"] <= 30
    assert _failures(ThrottleScope.ACCOUNT) == [3]


def test_the_wait_grows_then_the_account_locks(settings: Any) -> None:
    policy = throttling.policy_for(ThrottleScope.ACCOUNT)
    waits = [policy.delay_after(n).total_seconds() for n in range(1, 11)]
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert (policy.lock_after, policy.lock_seconds) == (10, 900)


def test_ten_failures_lock_the_account_for_fifteen_minutes(make_user: Any, settings: Any) -> None:
    settings.ACCOUNTS_LOGIN_SLOW_BASE_SECONDS = 0
    make_user(username="wang")
    answers = [_attempt("wang", "nope")[:2] for _ in range(10)]
    assert answers == [(400, "invalid_credentials")] * 10
    status, code, details = _attempt("wang", DEFAULT_PASSWORD)
    assert (status, code) == (429, "login_throttled")
    assert 895 <= details["retry_after"] <= 900
    assert _failures(ThrottleScope.ACCOUNT) == [10]


def test_unknown_accounts_throttle_and_lock_exactly_like_real_ones(
    make_user: Any, settings: Any
) -> None:
    settings.ACCOUNTS_LOGIN_SLOW_BASE_SECONDS = 0
    make_user(username="wang")
    real = [_attempt("wang", "nope", address="198.51.100.1")[:2] for _ in range(11)]
    unknown = [_attempt("ghost", "nope", address="198.51.100.2")[:2] for _ in range(11)]
    assert real == unknown
    assert real[-1] == (429, "login_throttled")


def test_a_locked_account_still_locked_with_another_identifier(
    make_user: Any, settings: Any
) -> None:
    settings.ACCOUNTS_LOGIN_SLOW_BASE_SECONDS = 0
    make_user(username="wang", phone="13900139000")
    for _ in range(10):
        _attempt("wang", "nope")
    assert _attempt("13900139000", DEFAULT_PASSWORD, address="198.51.100.9")[:2] == (
        429,
        "login_throttled",
    )


def test_the_source_address_is_slowed_across_accounts(make_user: Any, settings: Any) -> None:
    settings.ACCOUNTS_LOGIN_SLOW_BASE_SECONDS = 30
    settings.ACCOUNTS_LOGIN_ADDRESS_SLOW_AFTER = 3
    make_user(username="wang")
    for name in ("a", "b", "c"):
        assert _attempt(name, "nope")[:2] == (400, "invalid_credentials")
    assert _attempt("wang", DEFAULT_PASSWORD)[:2] == (429, "login_throttled")
    assert _attempt("wang", DEFAULT_PASSWORD, address="198.51.100.1") == (200, "ok", None)


def test_a_successful_login_forgets_the_account_failures(make_user: Any) -> None:
    make_user(username="wang")
    _attempt("wang", "nope")
    _attempt("wang", "nope")
    assert _attempt("wang", DEFAULT_PASSWORD) == (200, "ok", None)
    assert _failures(ThrottleScope.ACCOUNT) == []
    assert _failures(ThrottleScope.ADDRESS) == [2]


def test_old_failures_are_forgotten_after_the_window(make_user: Any) -> None:
    make_user(username="wang")
    for _ in range(3):
        _attempt("wang", "nope")
    long_ago = timezone.now() - timedelta(hours=2)
    LoginThrottle.objects.update(last_failure_at=long_ago, next_allowed_at=long_ago)
    assert _attempt("wang", "nope")[:2] == (400, "invalid_credentials")
    assert _failures(ThrottleScope.ACCOUNT) == [1]


def test_parallel_attempts_cannot_share_one_slot(make_user: Any) -> None:
    make_user(username="wang")
    for _ in range(3):
        _attempt("wang", "nope")
    keys = throttling.login_keys(account=f"user:{User.objects.get().pk}", address="198.51.100.3")
    later = timezone.now() + timedelta(seconds=2)
    throttling.attempt_claim(keys=keys, now=later)
    with pytest.raises(ApplicationError) as second:
        throttling.attempt_claim(keys=keys, now=later)
    assert second.value.code == "login_throttled"


def test_throttled_attempts_are_audited(make_user: Any, settings: Any) -> None:
    settings.ACCOUNTS_LOGIN_SLOW_BASE_SECONDS = 30
    make_user(username="wang")
    for _ in range(4):
        _attempt("wang", "nope")
    reasons = [
        e.detail["reason"]
        for e in AuditEntry.objects.filter(action="auth.login_failed").order_by("seq")
    ]
    assert reasons == ["bad_credentials"] * 3 + ["throttled"]


# --- TOTP ---


@pytest.fixture
def doctor(make_user: Any, make_totp_device: Callable[..., TOTPDevice]) -> tuple[User, TOTPDevice]:
    user = make_user(username="zhang", roles=["doctor"])
    return user, make_totp_device(user)


def _totp(user: User, code: str, address: str = ADDRESS) -> tuple[int, str]:
    try:
        totp_login_verify(user=user, code=code, address=address)
    except ApplicationError as exc:
        return exc.status, exc.code
    return 200, "ok"


def test_mfa_is_required_for_staff_and_for_anyone_with_a_confirmed_device(
    make_user: Any, make_totp_device: Callable[..., TOTPDevice]
) -> None:
    for role in ("doctor", "pharmacist", "operator", "admin"):
        assert mfa_required(user=make_user(roles=[role])) is True
    patient = make_user(roles=["patient"])
    assert mfa_required(user=patient) is False
    make_totp_device(patient, confirmed=False)
    assert (mfa_required(user=patient), totp_confirmed(user=patient)) == (False, False)
    make_totp_device(patient, confirmed=True)
    assert (mfa_required(user=patient), totp_confirmed(user=patient)) == (True, True)


@pytest.mark.spec("RFC 6238", "5.2")
def test_current_totp_code_is_accepted(doctor: tuple[User, TOTPDevice], totp_code: Any) -> None:
    user, device = doctor
    assert _totp(user, totp_code(device)) == (200, "ok")


@pytest.mark.spec("RFC 6238", "5.2")
def test_a_totp_code_cannot_be_replayed(doctor: tuple[User, TOTPDevice], totp_code: Any) -> None:
    user, device = doctor
    code = totp_code(device)
    assert _totp(user, code) == (200, "ok")
    last_t = TOTPDevice.objects.get(pk=device.pk).last_t
    assert _totp(user, code) == (400, "invalid_totp")
    assert TOTPDevice.objects.get(pk=device.pk).last_t == last_t
    assert AuditEntry.objects.filter(action="auth.mfa_failed", object_id=str(user.pk)).count() == 1


@pytest.mark.spec("RFC 6238", "5.2")
def test_an_earlier_step_than_the_last_used_one_is_refused(
    doctor: tuple[User, TOTPDevice], totp_code: Any
) -> None:
    user, device = doctor
    assert _totp(user, totp_code(device)) == (200, "ok")
    assert _totp(user, totp_code(device, steps_from_now=-1)) == (400, "invalid_totp")


@pytest.mark.spec("RFC 6238", "5.2")
@pytest.mark.parametrize("steps", [-3, -2, 2, 3])
def test_expired_or_future_totp_codes_are_refused(
    doctor: tuple[User, TOTPDevice], totp_code: Any, steps: int
) -> None:
    user, device = doctor
    code = totp_code(device, steps_from_now=steps)
    if code == totp_code(device):
        pytest.skip("the random key happens to give the same code for both steps")
    assert _totp(user, code) == (400, "invalid_totp")
    assert TOTPDevice.objects.get(pk=device.pk).last_t == -1


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "abcdef", " 123456", "+12345", "１２３４５６"]
)
def test_malformed_totp_codes_are_refused(doctor: tuple[User, TOTPDevice], code: str) -> None:
    user, device = doctor
    assert _totp(user, code) == (400, "invalid_totp")
    assert TOTPDevice.objects.get(pk=device.pk).last_t == -1


def test_wrong_totp_codes_count_toward_throttling(
    doctor: tuple[User, TOTPDevice], totp_code: Any, settings: Any
) -> None:
    settings.ACCOUNTS_LOGIN_SLOW_BASE_SECONDS = 30
    user, device = doctor
    wrong = f"{(int(totp_code(device)) + 1) % 10**6:06d}"
    for _ in range(3):
        assert _totp(user, wrong) == (400, "invalid_totp")
    assert _totp(user, totp_code(device)) == (429, "login_throttled")
    assert TOTPDevice.objects.get(pk=device.pk).last_t == -1


def test_a_correct_password_does_not_clear_failures_of_an_mfa_account(
    doctor: tuple[User, TOTPDevice], totp_code: Any
) -> None:
    user, device = doctor
    _attempt("zhang", "nope")
    _attempt("zhang", "nope")
    assert _attempt("zhang", DEFAULT_PASSWORD) == (200, "ok", None)
    assert _failures(ThrottleScope.ACCOUNT) == [2]
    assert _totp(user, totp_code(device)) == (200, "ok")
    assert _failures(ThrottleScope.ACCOUNT) == []


def test_totp_step_after_a_correct_password_is_not_made_to_wait(
    doctor: tuple[User, TOTPDevice], totp_code: Any
) -> None:
    user, device = doctor
    for _ in range(3):
        _attempt("zhang", "nope")
    LoginThrottle.objects.update(next_allowed_at=timezone.now() - timedelta(seconds=1))
    assert _attempt("zhang", DEFAULT_PASSWORD) == (200, "ok", None)
    assert _totp(user, totp_code(device)) == (200, "ok")


def test_oversized_identifier_or_password_is_just_a_failed_login(make_user: Any) -> None:
    make_user(username="wang")
    assert _attempt("wang", "x" * 100_000)[:2] == (400, "invalid_credentials")
    assert _attempt("w" * 100_000, DEFAULT_PASSWORD)[:2] == (400, "invalid_credentials")
    assert _failures(ThrottleScope.ACCOUNT) == [1, 1]
