"""Normalising the phone numbers and e-mail addresses people sign up and sign in with."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

# Mainland China mobile numbers: 11 digits, 1 then 3-9 (the second digit names the network).
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_PHONE_SEPARATORS = re.compile(r"[\s-]")
MAX_EMAIL_LENGTH = 254
_email_validator = EmailValidator()


def normalize_phone(value: str) -> str | None:
    """``+86 138-0013-8000`` → ``13800138000``; None when it is not a mainland mobile number."""
    digits = _PHONE_SEPARATORS.sub("", value.strip())
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits if _MOBILE.match(digits) else None


def normalize_email(value: str) -> str | None:
    """Lower-cased address, or None when it is not a valid e-mail address."""
    address = value.strip().lower()
    if not address or len(address) > MAX_EMAIL_LENGTH:
        return None
    try:
        _email_validator(address)
    except ValidationError:
        return None
    return address
