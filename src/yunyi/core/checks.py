"""System checks that stop an unsafe production boot.

They run with every management command and, through `config.boot.refuse_unsafe_boot`, when the
ASGI/WSGI application is created, so uvicorn and uWSGI never serve a misconfigured production.

Message ids (stable: operators and tests look for them):
E001 DEBUG on · E002 secret key missing, default or short · E003 field-encryption keys missing ·
E004 ALLOWED_HOSTS unset or '*' · E005 auditing off · E006 no OIDC signing key ·
E007 base URL not https · E008 field-encryption keys malformed · E009 OIDC signing key unusable.
"""

from __future__ import annotations

from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

WEAK_SECRETS: Final = {"", "changeme", "change-me", "secret", "django-insecure"}
MIN_SECRET_KEY_LENGTH: Final = 40
MIN_RSA_BITS: Final = 2048


def _secret_key() -> str:
    # Django refuses to hand out an empty SECRET_KEY; for this check, empty is an answer.
    try:
        return str(settings.SECRET_KEY or "")
    except ImproperlyConfigured:
        return ""


def _weak_secret_key(key: str) -> bool:
    return (
        key.lower() in WEAK_SECRETS
        or key.startswith("django-insecure")
        or len(key) < MIN_SECRET_KEY_LENGTH
    )


def _field_keys_problem(field_keys: str, blind_index_key: str) -> str | None:
    # Parsed by the privacy module that uses the keys, so the check and the runtime agree on the
    # format (imported here, not at the top: core sits below the apps).
    from yunyi.privacy.fieldcrypto import BlindIndex, KeyRing, KeyRingError

    try:
        KeyRing.from_spec(field_keys)
    except KeyRingError as exc:
        return f"YUNYI_FIELD_KEYS: {exc}"
    try:
        BlindIndex.from_base64(blind_index_key)
    except KeyRingError as exc:
        return f"YUNYI_BLIND_INDEX_KEY: {exc}"
    return None


def _oidc_key_problem(pem: str) -> str | None:
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        return "it is not an unencrypted PEM private key"
    if not isinstance(key, rsa.RSAPrivateKey):
        return "ID tokens are signed with RS256, which needs an RSA key"
    if key.key_size < MIN_RSA_BITS:
        return f"an RSA key needs at least {MIN_RSA_BITS} bits, this one has {key.key_size}"
    return None


@register(Tags.security, deploy=False)
def production_safety(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.YUNYI_ENV != "production":
        return []
    errors: list[CheckMessage] = []
    if settings.DEBUG:
        errors.append(
            Error("DEBUG is on in production.", hint="Unset YUNYI_DEBUG.", id="yunyi.E001")
        )
    if _weak_secret_key(_secret_key()):
        errors.append(
            Error(
                "YUNYI_SECRET_KEY is missing, a default, or shorter than "
                f"{MIN_SECRET_KEY_LENGTH} characters.",
                hint="Generate one: see deploy/README.md.",
                id="yunyi.E002",
            )
        )
    if not settings.FIELD_KEYS or not settings.BLIND_INDEX_KEY:
        errors.append(
            Error(
                "Field-encryption keys are missing.",
                hint="Set YUNYI_FIELD_KEYS and YUNYI_BLIND_INDEX_KEY.",
                id="yunyi.E003",
            )
        )
    else:
        problem = _field_keys_problem(settings.FIELD_KEYS, settings.BLIND_INDEX_KEY)
        if problem:
            errors.append(
                Error(f"Field-encryption keys are malformed: {problem}.", id="yunyi.E008")
            )
    if not settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS:
        errors.append(Error("YUNYI_ALLOWED_HOSTS is unset or '*'.", id="yunyi.E004"))
    if not settings.AUDIT_ENABLED:
        errors.append(
            Error(
                "Auditing is disabled in production.",
                hint="Unset YUNYI_AUDIT_ENABLED.",
                id="yunyi.E005",
            )
        )
    if not settings.OIDC_PRIVATE_KEY:
        errors.append(
            Error(
                "No OpenID Connect signing key.",
                hint="Set YUNYI_OIDC_PRIVATE_KEY_FILE.",
                id="yunyi.E006",
            )
        )
    else:
        problem = _oidc_key_problem(settings.OIDC_PRIVATE_KEY)
        if problem:
            errors.append(
                Error(f"The OpenID Connect signing key is unusable: {problem}.", id="yunyi.E009")
            )
    if not settings.BASE_URL.startswith("https://"):
        errors.append(
            Error("YUNYI_BASE_URL must be an https:// URL in production.", id="yunyi.E007")
        )
    return errors
