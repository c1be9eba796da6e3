"""Account use-cases: password and TOTP sign-in checks, TOTP enrolment, profile, real-name
verification and guardians' wards. Sign-up lives in `yunyi.accounts.signup`.

Sign-in services count failures in their own transactions before raising, so a failed attempt
is remembered even though the caller sees an error: do not wrap them in a transaction that rolls
back on error.
"""

from __future__ import annotations

import functools
import re
import uuid
from base64 import b32encode
from dataclasses import dataclass

import segno
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunyi.accounts import throttling
from yunyi.accounts.addresses import normalize_email, normalize_phone
from yunyi.accounts.errors import AccountsErrorCode
from yunyi.accounts.models import (
    GuardianLink,
    RealNameIdentity,
    RoleGrant,
    User,
    resident_id_associated_data,
)
from yunyi.accounts.resident_id import (
    ImplausibleBirthDateError,
    ResidentId,
    ResidentIdError,
    age_on,
    parse_resident_id,
)
from yunyi.accounts.roles import STAFF_ROLES, Role
from yunyi.accounts.signals import real_name_verified
from yunyi.audit.models import Outcome
from yunyi.audit.services import AuditContext, audit_record
from yunyi.core.errors import ApplicationError
from yunyi.privacy.fields import blind_index, encrypt_field

ADULT_AGE = 18
RESIDENT_ID_PURPOSE = "accounts.resident_id"
_TOTP_CODE = re.compile(r"^[0-9]{6}$")
_LEGAL_NAME_PUNCTUATION = frozenset(" ·•.-'")
MAX_LEGAL_NAME_LENGTH = 64
MAX_IDENTIFIER_LENGTH = 254
MAX_PASSWORD_LENGTH = 4096


# --- sign-in ---------------------------------------------------------------------------------


def _login_user(identifier: str) -> User | None:
    """The account an identifier names: its username, mobile number or e-mail address."""
    user = User.objects.filter(username=identifier).first()
    if user is None and (phone := normalize_phone(identifier)):
        user = User.objects.filter(phone=phone).first()
    if user is None and (email := normalize_email(identifier)):
        user = User.objects.filter(email=email).first()
    return user


def _account_value(*, user: User | None, identifier: str) -> str:
    # Unknown identifiers get counters of their own, so they throttle exactly like accounts.
    return f"user:{user.pk}" if user is not None else f"identifier:{identifier.lower()}"


def _invalid_credentials() -> ApplicationError:
    return ApplicationError(
        AccountsErrorCode.INVALID_CREDENTIALS,
        _("The account or password is incorrect."),
        status=400,
    )


def _login_failed_audit(
    *, user: User | None, address: str, reason: str, action: str = "auth.login_failed"
) -> None:
    audit_record(
        context=AuditContext(address=address),
        action=action,
        outcome=Outcome.FAILURE,
        object_type="user" if user is not None else "",
        object_id=str(user.pk) if user is not None else "",
        detail={"reason": reason},
    )


def password_login(*, identifier: str, password: str, address: str) -> User:
    """Check a password sign-in (identifier: username, phone number or e-mail). Raises
    INVALID_CREDENTIALS (400) on any failure with one message whether or not the account exists,
    and LOGIN_THROTTLED (429, details.retry_after) before the password is looked at when the
    account or address must wait or is locked. Success is not audited here: the caller records
    `auth.login` once the whole sign-in (with TOTP) succeeds."""
    identifier = identifier.strip()[:MAX_IDENTIFIER_LENGTH]
    user = _login_user(identifier) if identifier else None
    keys = throttling.login_keys(
        account=_account_value(user=user, identifier=identifier), address=address
    )
    now = timezone.now()
    try:
        throttling.attempt_claim(keys=keys, now=now)
    except ApplicationError:
        _login_failed_audit(user=user, address=address, reason="throttled")
        raise
    if len(password) > MAX_PASSWORD_LENGTH:
        ok = False  # refuse before hashing megabytes
    elif user is None or not user.is_active or not user.has_usable_password():
        # Hash anyway, so the answer takes as long as for a real account.
        make_password(password)
        ok = False
    else:
        ok = user.check_password(password)
    if not ok:
        throttling.failure_record(keys=keys)
        _login_failed_audit(user=user, address=address, reason="bad_credentials")
        raise _invalid_credentials()
    assert user is not None
    if mfa_required(user=user):
        throttling.claim_release(key=keys[0])
    else:
        throttling.account_reset(key=keys[0])
    return user


# --- TOTP --------------------------------------------------------------------------------------


def totp_confirmed(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_required(*, user: User, totp_enabled: bool | None = None) -> bool:
    """Staff (doctor, pharmacist, operator, admin) and anyone who enrolled TOTP sign in with it.
    `totp_enabled` spares the query when the caller has read it already."""
    if user.role_set() & STAFF_ROLES:
        return True
    return totp_confirmed(user=user) if totp_enabled is None else totp_enabled


def _totp_verify(*, user: User, code: str, confirmed: bool) -> TOTPDevice | None:
    """The device the code is valid for, or None. django-otp accepts a time step only once (it
    keeps the last accepted step in `last_t`); the row lock makes that hold under concurrency."""
    if not _TOTP_CODE.match(code):
        return None
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=confirmed)
            .order_by("-id")
            .first()
        )
        if device is None or not device.verify_token(code):
            return None
    return device


def _invalid_totp() -> ApplicationError:
    return ApplicationError(
        AccountsErrorCode.INVALID_TOTP, _("The code is wrong or has expired."), status=400
    )


def totp_login_verify(*, user: User, code: str, address: str) -> None:
    """Second sign-in step. Raises INVALID_TOTP (400) for a wrong, expired or replayed code, and
    LOGIN_THROTTLED (429) like `password_login`; failures count toward the same limits."""
    keys = throttling.login_keys(account=_account_value(user=user, identifier=""), address=address)
    now = timezone.now()
    try:
        throttling.attempt_claim(keys=keys, now=now)
    except ApplicationError:
        _login_failed_audit(
            user=user, address=address, reason="throttled", action="auth.mfa_failed"
        )
        raise
    if _totp_verify(user=user, code=code, confirmed=True) is None:
        throttling.failure_record(keys=keys)
        _login_failed_audit(user=user, address=address, reason="bad_code", action="auth.mfa_failed")
        raise _invalid_totp()
    throttling.account_reset(key=keys[0])


@dataclass(frozen=True)
class TotpEnrolment:
    device_id: int
    secret_base32: str
    otpauth_uri: str
    qr_svg: str


def totp_enrol_begin(*, user: User) -> TotpEnrolment:
    """A new unconfirmed TOTP device (replacing any earlier unconfirmed one); an existing
    confirmed device keeps working until the new one is confirmed."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Yunyi", confirmed=False)
    uri = device.config_url
    return TotpEnrolment(
        device_id=device.pk,
        secret_base32=b32encode(device.bin_key).decode("ascii"),
        otpauth_uri=uri,
        qr_svg=segno.make(uri, error="m").svg_inline(scale=4, title=_("TOTP QR code")),
    )


def totp_enrol_confirm(*, user: User, code: str, context: AuditContext) -> None:
    """Confirm the pending device with a current code; it replaces any earlier device."""
    with transaction.atomic():
        device = _totp_verify(user=user, code=code, confirmed=False)
        if device is None:
            raise _invalid_totp()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        audit_record(
            context=context,
            action="auth.mfa_enrolled",
            object_type="user",
            object_id=str(user.pk),
            detail={"method": "totp", "device_id": device.pk},
        )


def totp_remove(*, user: User, code: str, context: AuditContext) -> None:
    """Switch TOTP off, proven with a current code. Staff must keep it (MFA_REQUIRED, 409)."""
    if user.role_set() & STAFF_ROLES:
        raise ApplicationError(
            AccountsErrorCode.MFA_REQUIRED,
            _("Staff accounts must keep two-factor sign-in."),
            status=409,
        )
    keys = throttling.login_keys(
        account=_account_value(user=user, identifier=""), address=context.address
    )
    now = timezone.now()
    throttling.attempt_claim(keys=keys, now=now)
    if _totp_verify(user=user, code=code, confirmed=True) is None:
        throttling.failure_record(keys=keys)
        raise _invalid_totp()
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit_record(
            context=context,
            action="auth.mfa_removed",
            object_type="user",
            object_id=str(user.pk),
            detail={"method": "totp"},
        )


# --- profile -----------------------------------------------------------------------------------


def profile_update(
    *, user: User, display_name: str | None = None, preferred_language: str | None = None
) -> User:
    fields: list[str] = []
    if display_name is not None:
        user.display_name = display_name.strip()
        fields.append("display_name")
    if preferred_language is not None:
        user.preferred_language = preferred_language
        fields.append("preferred_language")
    if fields:
        user.save(update_fields=fields)
    return user


# --- real-name verification and wards ----------------------------------------------------------


def _clean_legal_name(value: str) -> str:
    name = " ".join(value.split())
    if (
        not name
        or len(name) > MAX_LEGAL_NAME_LENGTH
        or not all(ch.isalpha() or ch in _LEGAL_NAME_PUNCTUATION for ch in name)
    ):
        raise ApplicationError(
            AccountsErrorCode.INVALID_LEGAL_NAME,
            _("Enter the legal name as written on the identity card."),
            status=400,
        )
    return name


def _parse_resident_id(value: str) -> ResidentId:
    try:
        return parse_resident_id(value, today=timezone.localdate())
    except ImplausibleBirthDateError as exc:
        raise ApplicationError(
            AccountsErrorCode.IMPLAUSIBLE_BIRTH_DATE,
            _("The birth date in this identity number is not plausible."),
            status=400,
        ) from exc
    except ResidentIdError as exc:
        raise ApplicationError(
            AccountsErrorCode.INVALID_RESIDENT_ID,
            _("This is not a valid resident identity number."),
            status=400,
        ) from exc


def _resident_id_taken() -> ApplicationError:
    return ApplicationError(
        AccountsErrorCode.RESIDENT_ID_TAKEN,
        _("This identity number is already registered to another account."),
        status=409,
    )


def _identity_create(*, user: User, legal_name: str, resident: ResidentId) -> RealNameIdentity:
    index = blind_index(resident.number, purpose=RESIDENT_ID_PURPOSE)
    if RealNameIdentity.objects.filter(resident_id_index=index).exists():
        raise _resident_id_taken()
    identity = RealNameIdentity(
        user=user,
        legal_name=legal_name,
        resident_id_ciphertext=encrypt_field(
            resident.number, associated_data=resident_id_associated_data(user_id=str(user.pk))
        ),
        resident_id_index=index,
        resident_id_masked=resident.masked,
        birth_date=resident.birth_date,
        sex=str(resident.sex),
        verified_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            identity.save(force_insert=True)
    except IntegrityError as exc:
        raise _resident_id_taken() from exc
    return identity


def _announce_real_name_verified(user: User) -> None:
    # On commit, robustly: a receiver's failure (logged by Django) cannot undo a verification.
    transaction.on_commit(
        functools.partial(real_name_verified.send, sender=User, user=user), robust=True
    )


def real_name_verify(
    *, user: User, legal_name: str, resident_id: str, context: AuditContext
) -> RealNameIdentity:
    """Record the user's legal name and resident identity number (GB 11643-1999 checked), whose
    birth date becomes the user's date of birth."""
    name = _clean_legal_name(legal_name)
    resident = _parse_resident_id(resident_id)
    with transaction.atomic():
        if RealNameIdentity.objects.filter(user=user).exists():
            raise ApplicationError(
                AccountsErrorCode.ALREADY_VERIFIED,
                _("Your real name is already verified."),
                status=409,
            )
        identity = _identity_create(user=user, legal_name=name, resident=resident)
        audit_record(
            context=context,
            action="accounts.real_name_verified",
            object_type="user",
            object_id=str(user.pk),
        )
        _announce_real_name_verified(user)
    return identity


def ward_create(
    *, guardian: User, legal_name: str, resident_id: str, relationship: str, context: AuditContext
) -> GuardianLink:
    """Create a minor's account (no password: the guardian acts for it), link it to the
    guardian and grant the guardian role. The ward must be under 18 by the number's birth date."""
    name = _clean_legal_name(legal_name)
    resident = _parse_resident_id(resident_id)
    if age_on(resident.birth_date, timezone.localdate()) >= ADULT_AGE:
        raise ApplicationError(
            AccountsErrorCode.NOT_A_MINOR,
            _("Only minors (under 18) can be added as wards."),
            status=400,
        )
    with transaction.atomic():
        ward = User(username=f"ward-{uuid.uuid4().hex[:16]}", display_name=name)
        ward.set_unusable_password()
        ward.save()
        RoleGrant.objects.create(user=ward, role=Role.PATIENT, granted_by=guardian)
        _identity_create(user=ward, legal_name=name, resident=resident)
        link = GuardianLink.objects.create(guardian=guardian, ward=ward, relationship=relationship)
        _grant, granted = RoleGrant.objects.get_or_create(user=guardian, role=Role.GUARDIAN)
        if hasattr(guardian, "_role_cache"):
            del guardian._role_cache
        audit_record(
            context=context,
            action="accounts.ward_linked",
            object_type="user",
            object_id=str(ward.pk),
            detail={"relationship": relationship, "guardian_role_granted": granted},
        )
        _announce_real_name_verified(ward)
    return link
