"""Error codes of the accounts API (rendered by `yunyi.core.api`)."""

from __future__ import annotations

from enum import StrEnum


class AccountsErrorCode(StrEnum):
    INVALID_CREDENTIALS = "invalid_credentials"
    LOGIN_THROTTLED = "login_throttled"
    INVALID_TOTP = "invalid_totp"
    MFA_REQUIRED = "mfa_required"
    INVALID_ADDRESS = "invalid_address"
    ALREADY_REGISTERED = "already_registered"
    CODE_RATE_LIMITED = "code_rate_limited"
    INVALID_CODE = "invalid_code"
    WEAK_PASSWORD = "weak_password"
    INVALID_LEGAL_NAME = "invalid_legal_name"
    INVALID_RESIDENT_ID = "invalid_resident_id"
    IMPLAUSIBLE_BIRTH_DATE = "implausible_birth_date"
    RESIDENT_ID_TAKEN = "resident_id_taken"
    ALREADY_VERIFIED = "already_verified"
    NOT_A_MINOR = "not_a_minor"
