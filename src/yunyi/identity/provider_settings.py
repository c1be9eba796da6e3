"""django-oauth-toolkit configuration, built from Yunyi settings (imported by config.settings).

This module and what it imports must not import django-oauth-toolkit: DOT reads the Django
settings when it is first imported, and would read them half-built from here.
"""

from __future__ import annotations

from typing import Any

from yunyi.identity.scopes import SCOPE_DESCRIPTIONS

# The password-hasher algorithm of client secrets (`yunyi.identity.hashers.ClientSecretHasher`,
# listed in PASSWORD_HASHERS after the user-password hashers).
CLIENT_SECRET_HASHER = "yunyi_client_secret"
ACCESS_TOKEN_SECONDS = 900
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
# How clients authenticate at the token endpoint; `private_key_jwt` is RFC 7523 client
# assertions (yunyi.identity.client_assertion), advertised by both discovery documents.
TOKEN_ENDPOINT_AUTH_METHODS = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
]


def oauth2_provider_settings(*, oidc_private_key: str, base_url: str) -> dict[str, Any]:
    return {
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": oidc_private_key,
        "OIDC_ISS_ENDPOINT": f"{base_url}/o" if base_url else "",
        "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OAUTH2_GRANT_TYPES_SUPPORTED": [
            "authorization_code",
            "client_credentials",
            "refresh_token",
        ],
        # Public clients must use PKCE; the validator decides per client (is_pkce_required).
        "PKCE_REQUIRED": True,
        # Generated client secrets are hashed fast (one salted HMAC): Argon2 cost ~240 ms of CPU
        # on every client authentication. Why that is safe: yunyi.identity.hashers.
        "CLIENT_SECRET_HASHER": CLIENT_SECRET_HASHER,
        "SCOPES": dict(SCOPE_DESCRIPTIONS),
        "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": TOKEN_ENDPOINT_AUTH_METHODS,
        "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": TOKEN_ENDPOINT_AUTH_METHODS,
        "DEFAULT_SCOPES": ["openid"],
        "SCOPES_BACKEND_CLASS": "yunyi.identity.scope_backend.YunyiScopes",
        "OAUTH2_VALIDATOR_CLASS": "yunyi.identity.validators.YunyiOAuth2Validator",
        "ACCESS_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_SECONDS,
        "REFRESH_TOKEN_EXPIRE_SECONDS": REFRESH_TOKEN_SECONDS,
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
        "ID_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_SECONDS,
        # Rotation with reuse detection: presenting a rotated-out refresh token revokes every
        # token of its family (RFC 9700 §4.14.2). No grace period: a retry gets invalid_grant.
        "ROTATE_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
        "REQUEST_APPROVAL_PROMPT": "auto",
        # RFC 9700 (OAuth 2.0 Security BCP) behaviour, enforced rather than warned about:
        # no implicit or password grants, no "plain" PKCE, no tokens in query strings, the
        # RFC 9207 `iss` on authorization responses, and tokens stored only as SHA-256.
        "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
        "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
        "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
        "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    }
