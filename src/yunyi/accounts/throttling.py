"""Login throttling: failures are counted per account (or per unknown identifier, so unknown
accounts behave exactly like known ones) and per source address. After `slow_after` failures each
further attempt must wait a growing interval (base * 2^n, capped); after `lock_after` failures the
key is locked for `lock_seconds`. Failures older than `window_seconds` are forgotten.

An attempt *claims* its slot before the password is checked, with a conditional update, so
parallel guesses cannot slip through the wait between them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from yunyi.accounts.errors import AccountsErrorCode
from yunyi.accounts.models import LoginThrottle, ThrottleScope
from yunyi.core.errors import ApplicationError


@dataclass(frozen=True)
class ThrottlePolicy:
    slow_after: int
    lock_after: int
    base_seconds: float
    max_seconds: float
    lock_seconds: int
    window_seconds: int

    def delay_after(self, failures: int) -> timedelta:
        if failures < self.slow_after:
            return timedelta(0)
        seconds = min(self.base_seconds * 2 ** (failures - self.slow_after), self.max_seconds)
        return timedelta(seconds=seconds)


def policy_for(scope: str) -> ThrottlePolicy:
    account = scope == ThrottleScope.ACCOUNT
    return ThrottlePolicy(
        slow_after=settings.ACCOUNTS_LOGIN_SLOW_AFTER
        if account
        else settings.ACCOUNTS_LOGIN_ADDRESS_SLOW_AFTER,
        lock_after=settings.ACCOUNTS_LOGIN_LOCK_AFTER
        if account
        else settings.ACCOUNTS_LOGIN_ADDRESS_LOCK_AFTER,
        base_seconds=settings.ACCOUNTS_LOGIN_SLOW_BASE_SECONDS,
        max_seconds=settings.ACCOUNTS_LOGIN_SLOW_MAX_SECONDS,
        lock_seconds=settings.ACCOUNTS_LOGIN_LOCK_SECONDS,
        window_seconds=settings.ACCOUNTS_LOGIN_FAILURE_WINDOW_SECONDS,
    )


@dataclass(frozen=True)
class ThrottleKey:
    scope: str
    key_hash: str


def throttle_key(*, scope: str, value: str) -> ThrottleKey:
    # Keyed hash: the table must not hold identifiers or IP addresses in the clear.
    digest = salted_hmac("yunyi.accounts.login_throttle", f"{scope}:{value}", algorithm="sha256")
    return ThrottleKey(scope=scope, key_hash=digest.hexdigest())


def login_keys(*, account: str, address: str) -> list[ThrottleKey]:
    return [
        throttle_key(scope=ThrottleScope.ACCOUNT, value=account),
        throttle_key(scope=ThrottleScope.ADDRESS, value=address or "-"),
    ]


def _throttled(until: datetime, now: datetime) -> ApplicationError:
    retry_after = max(1, math.ceil((until - now).total_seconds()))
    return ApplicationError(
        AccountsErrorCode.LOGIN_THROTTLED,
        _("Too many failed sign-in attempts. Try again in %(seconds)d seconds.")
        % {"seconds": retry_after},
        status=429,
        details={"retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def _is_stale(row: LoginThrottle, policy: ThrottlePolicy, now: datetime) -> bool:
    locked = row.locked_until is not None and row.locked_until > now
    return (
        not locked
        and row.last_failure_at is not None
        and row.last_failure_at < now - timedelta(seconds=policy.window_seconds)
    )


def attempt_claim(*, keys: list[ThrottleKey], now: datetime) -> None:
    """Raise LOGIN_THROTTLED (429, details.retry_after) when any key is locked or must still
    wait; otherwise take this attempt's slot."""
    for key in keys:
        policy = policy_for(key.scope)
        row = LoginThrottle.objects.filter(scope=key.scope, key_hash=key.key_hash).first()
        if row is None or _is_stale(row, policy, now):
            continue
        if row.locked_until is not None and row.locked_until > now:
            raise _throttled(row.locked_until, now)
        if row.failures < policy.slow_after:
            continue
        if row.next_allowed_at is not None and row.next_allowed_at > now:
            raise _throttled(row.next_allowed_at, now)
        claimed = (
            LoginThrottle.objects.filter(pk=row.pk)
            .filter(Q(next_allowed_at__isnull=True) | Q(next_allowed_at__lte=now))
            .update(next_allowed_at=now + policy.delay_after(row.failures))
        )
        if not claimed:
            raise _throttled(now + policy.delay_after(row.failures), now)


def failure_record(*, keys: list[ThrottleKey]) -> None:
    """Count one failure against every key (committed at once: the caller raises afterwards).
    Waits run from now, when the failure is known, not from the start of the slow check."""
    now = timezone.now()
    with transaction.atomic():
        for key in keys:
            policy = policy_for(key.scope)
            row, _created = LoginThrottle.objects.select_for_update().get_or_create(
                scope=key.scope, key_hash=key.key_hash
            )
            if _is_stale(row, policy, now):
                row.failures = 0
                row.locked_until = None
            row.failures += 1
            row.last_failure_at = now
            row.next_allowed_at = now + policy.delay_after(row.failures)
            if row.failures >= policy.lock_after:
                row.locked_until = now + timedelta(seconds=policy.lock_seconds)
            row.save()


def account_reset(*, key: ThrottleKey) -> None:
    """Forget an account's failures after a complete successful sign-in. Address counters are
    kept: otherwise an attacker could clear them by signing in to an account of their own."""
    LoginThrottle.objects.filter(scope=key.scope, key_hash=key.key_hash).delete()


def claim_release(*, key: ThrottleKey) -> None:
    """Give back a claimed slot after a correct password when a TOTP step follows, so the
    second factor is not made to wait; the failure count stays until the whole login succeeds."""
    LoginThrottle.objects.filter(scope=key.scope, key_hash=key.key_hash).update(
        next_allowed_at=None
    )
