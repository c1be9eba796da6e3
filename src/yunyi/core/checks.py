"""System checks that stop an unsafe production boot.

They run with every management command and, through `config.boot.refuse_unsafe_boot`, when the
ASGI/WSGI application is created, so uvicorn and gunicorn never serve a misconfigured production.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

WEAK_SECRETS = {"", "changeme", "change-me", "secret", "django-insecure"}


@register(Tags.security, deploy=False)
def production_safety(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.YUNYI_ENV != "production":
        return []
    errors: list[CheckMessage] = []
    if settings.DEBUG:
        errors.append(Error("DEBUG is on in production.", hint="Unset YUNYI_DEBUG.", id="yunyi.E001"))
    key = settings.SECRET_KEY or ""
    if key.lower() in WEAK_SECRETS or key.startswith("django-insecure") or len(key) < 40:
        errors.append(Error("YUNYI_SECRET_KEY is missing, a default, or shorter than 40 characters.",
                            id="yunyi.E002"))
    if not settings.FIELD_KEYS or not settings.BLIND_INDEX_KEY:
        errors.append(Error("Field-encryption keys are missing.",
                            hint="Set YUNYI_FIELD_KEYS and YUNYI_BLIND_INDEX_KEY.", id="yunyi.E003"))
    if not settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS:
        errors.append(Error("YUNYI_ALLOWED_HOSTS is unset or '*'.", id="yunyi.E004"))
    if not settings.AUDIT_ENABLED:
        errors.append(Error("Auditing is disabled in production.", hint="Unset YUNYI_AUDIT_ENABLED.",
                            id="yunyi.E005"))
    if not settings.OIDC_PRIVATE_KEY:
        errors.append(Error("No OpenID Connect signing key.",
                            hint="Set YUNYI_OIDC_PRIVATE_KEY_FILE.", id="yunyi.E006"))
    if not settings.BASE_URL.startswith("https://"):
        errors.append(Error("YUNYI_BASE_URL must be an https:// URL in production.", id="yunyi.E007"))
    return errors
