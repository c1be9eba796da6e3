"""django-oauth-toolkit configuration, built from Yunyi settings (imported by config.settings)."""

from __future__ import annotations

from typing import Any

from yunyi.identity.scopes import SCOPE_DESCRIPTIONS


def oauth2_provider_settings(*, oidc_private_key: str, base_url: str) -> dict[str, Any]:
    return {
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": oidc_private_key,
        "OIDC_ISS_ENDPOINT": f"{base_url}/o" if base_url else "",
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "PKCE_REQUIRED": "yunyi.identity.policy.pkce_required",
        "SCOPES": SCOPE_DESCRIPTIONS,
        "DEFAULT_SCOPES": ["openid"],
        "SCOPES_BACKEND_CLASS": "yunyi.identity.scopes.YunyiScopes",
        "OAUTH2_VALIDATOR_CLASS": "yunyi.identity.validators.YunyiOAuth2Validator",
        "ACCESS_TOKEN_EXPIRE_SECONDS": 900,
        "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
        "ID_TOKEN_EXPIRE_SECONDS": 900,
        "ROTATE_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
        "REQUEST_APPROVAL_PROMPT": "auto",
    }
