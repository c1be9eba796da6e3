"""Sign-up by phone number or e-mail, confirmed by a one-time code.

Codes are six random digits, kept only as a keyed hash, valid for
``ACCOUNTS_SIGNUP_CODE_TTL_SECONDS``, good for one use and ``ACCOUNTS_SIGNUP_CODE_MAX_ATTEMPTS``
guesses. Sending is rate-limited per address (one per ``ACCOUNTS_SIGNUP_RESEND_SECONDS``, at most
``ACCOUNTS_SIGNUP_CODES_PER_ADDRESS_PER_HOUR``) and per requesting IP address
(``ACCOUNTS_SIGNUP_CODES_PER_IP_PER_HOUR``).
"""

from __future__ import annotations

import math
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from yunyi.accounts.addresses import normalize_email, normalize_phone
from yunyi.accounts.errors import AccountsErrorCode
from yunyi.accounts.models import RoleGrant, SignupChallenge, SignupChannel, User
from yunyi.accounts.roles import Role
from yunyi.accounts.senders import code_sender
from yunyi.audit.services import AuditContext, audit_record
from yunyi.core.errors import ApplicationError

_CODE = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class SignupStarted:
    signup_id: str
    expires_in: int


def _code_hash(*, challenge_id: uuid.UUID, code: str) -> str:
    return salted_hmac(
        "yunyi.accounts.signup_code", f"{challenge_id}:{code}", algorithm="sha256"
    ).hexdigest()


def _normalize(*, channel: str, address: str) -> str:
    normalized = (
        normalize_phone(address) if channel == SignupChannel.PHONE else normalize_email(address)
    )
    if normalized is None:
        message = (
            _("Enter a mainland China mobile number (11 digits).")
            if channel == SignupChannel.PHONE
            else _("Enter a valid e-mail address.")
        )
        raise ApplicationError(AccountsErrorCode.INVALID_ADDRESS, message, status=400)
    return normalized


def _registered(address: str) -> bool:
    return User.objects.filter(username=address).exists() or (
        User.objects.filter(phone=address).exists() or User.objects.filter(email=address).exists()
    )


def _already_registered() -> ApplicationError:
    return ApplicationError(
        AccountsErrorCode.ALREADY_REGISTERED,
        _("An account with this address already exists."),
        status=409,
    )


def _rate_limited(until: datetime, now: datetime) -> ApplicationError:
    retry_after = max(1, math.ceil((until - now).total_seconds()))
    return ApplicationError(
        AccountsErrorCode.CODE_RATE_LIMITED,
        _("Too many codes requested. Try again in %(seconds)d seconds.") % {"seconds": retry_after},
        status=429,
        details={"retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def _check_send_rate(*, address: str, requested_from: str, now: datetime) -> None:
    hour_ago = now - timedelta(hours=1)
    recent = list(
        SignupChallenge.objects.filter(address=address, created_at__gte=hour_ago)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if recent and recent[-1] > now - timedelta(seconds=settings.ACCOUNTS_SIGNUP_RESEND_SECONDS):
        raise _rate_limited(
            recent[-1] + timedelta(seconds=settings.ACCOUNTS_SIGNUP_RESEND_SECONDS), now
        )
    if len(recent) >= settings.ACCOUNTS_SIGNUP_CODES_PER_ADDRESS_PER_HOUR:
        raise _rate_limited(recent[0] + timedelta(hours=1), now)
    from_ip = list(
        SignupChallenge.objects.filter(requested_from=requested_from, created_at__gte=hour_ago)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(from_ip) >= settings.ACCOUNTS_SIGNUP_CODES_PER_IP_PER_HOUR:
        raise _rate_limited(from_ip[0] + timedelta(hours=1), now)


def signup_start(*, channel: str, address: str, requested_from: str) -> SignupStarted:
    """Send a one-time code to `address`; a new code supersedes earlier unused ones."""
    normalized = _normalize(channel=channel, address=address)
    if _registered(normalized):
        raise _already_registered()
    now = timezone.now()
    ttl = settings.ACCOUNTS_SIGNUP_CODE_TTL_SECONDS
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        _check_send_rate(address=normalized, requested_from=requested_from, now=now)
        SignupChallenge.objects.filter(address=normalized, consumed_at__isnull=True).update(
            consumed_at=now
        )
        challenge = SignupChallenge(
            channel=channel,
            address=normalized,
            requested_from=requested_from,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        challenge.code_hash = _code_hash(challenge_id=challenge.id, code=code)
        challenge.save()
        transaction.on_commit(
            lambda: code_sender().send(channel=channel, address=normalized, code=code), robust=False
        )
    return SignupStarted(signup_id=str(challenge.id), expires_in=ttl)


def _invalid_code() -> ApplicationError:
    return ApplicationError(
        AccountsErrorCode.INVALID_CODE,
        _("The code is wrong or no longer valid. Request a new one."),
        status=400,
    )


def _live_challenge(signup_id: str, now: datetime) -> SignupChallenge | None:
    try:
        challenge_id = uuid.UUID(signup_id)
    except ValueError:
        return None
    challenge = SignupChallenge.objects.select_for_update().filter(id=challenge_id).first()
    if (
        challenge is None
        or challenge.consumed_at is not None
        or challenge.expires_at <= now
        or challenge.attempts >= settings.ACCOUNTS_SIGNUP_CODE_MAX_ATTEMPTS
    ):
        return None
    return challenge


def _code_matches(*, signup_id: str, code: str, now: datetime) -> bool:
    """Check the code, counting a wrong guess (committed even though the caller then fails)."""
    with transaction.atomic():
        challenge = _live_challenge(signup_id, now)
        if challenge is None:
            return False
        expected = challenge.code_hash
        if _CODE.match(code) and constant_time_compare(
            expected, _code_hash(challenge_id=challenge.id, code=code)
        ):
            return True
        SignupChallenge.objects.filter(pk=challenge.pk).update(attempts=challenge.attempts + 1)
        return False


def signup_confirm(
    *, signup_id: str, code: str, password: str, display_name: str, context: AuditContext
) -> User:
    """Create the patient account whose username is the confirmed phone number or e-mail.

    A weak password (Django's validators) leaves the code usable, so the person can retry."""
    now = timezone.now()
    if not _code_matches(signup_id=signup_id, code=code, now=now):
        raise _invalid_code()
    with transaction.atomic():
        challenge = _live_challenge(signup_id, now)
        if challenge is None:
            raise _invalid_code()
        address = challenge.address
        user = User(
            username=address,
            display_name=display_name.strip(),
            phone=address if challenge.channel == SignupChannel.PHONE else None,
            email=address if challenge.channel == SignupChannel.EMAIL else None,
        )
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            raise ApplicationError(
                AccountsErrorCode.WEAK_PASSWORD,
                _("Choose a stronger password."),
                status=422,
                details={"messages": [str(message) for message in exc.messages]},
            ) from exc
        if _registered(address):
            raise _already_registered()
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            raise _already_registered() from exc
        RoleGrant.objects.create(user=user, role=Role.PATIENT)
        challenge.consumed_at = now
        challenge.save(update_fields=["consumed_at"])
        audit_record(
            context=AuditContext(
                actor_id=str(user.pk),
                actor_role=Role.PATIENT,
                client_id=context.client_id,
                address=context.address,
            ),
            action="accounts.signup",
            object_type="user",
            object_id=str(user.pk),
            detail={"channel": challenge.channel},
        )
    return user
