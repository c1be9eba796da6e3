"""OAuth 2.0 / OpenID Connect request validation beyond django-oauth-toolkit's defaults.

- Clients an admin disabled are unknown to every endpoint (no tokens, no userinfo).
- Redirect URIs match by simple string comparison (OIDC Core §3.1.2.1, RFC 9700 §4.1.3).
- PKCE is required of public clients (RFC 7636, RFC 9700 §2.1.1); the authorization view
  additionally refuses the "plain" method.
- Scopes come from the catalogue and the client's policy: unknown scopes and scopes outside
  the client's allowed set are `invalid_scope`; `system/` scopes only reach confidential
  clients through the client-credentials grant (SMART Backend Services).
- A redeemed authorization code that is presented again revokes the tokens it bought
  (RFC 6749 §4.1.2, §10.5).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2.rfc6749 import errors

from yunyi.identity.models import RedeemedAuthorizationCode
from yunyi.identity.provider_settings import ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS
from yunyi.identity.scopes import is_system_scope, scopes_refused
from yunyi.identity.selectors import (
    client_allowed_scopes,
    client_is_disabled,
    token_checksum,
    user_claims,
)


class YunyiOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "fhirUser": "fhirUser",
        "roles": "profile",
    }

    # -- clients ---------------------------------------------------------------------------

    def _load_application(self, client_id: str, request: OAuthlibRequest) -> Any:
        client = super()._load_application(client_id, request)
        if client is not None and client_is_disabled(client):
            request.client = None
            return None
        return client

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> bool:
        # Exact string comparison: DOT would also let any port through for http loopback
        # URIs (RFC 8252 §7.3, meant for native apps); our clients are web apps.
        return redirect_uri in request.client.redirect_uris.split()

    def is_pkce_required(self, client_id: str, request: OAuthlibRequest) -> bool:
        client = request.client or self._load_application(client_id, request)
        return client is None or client.client_type == AbstractApplication.CLIENT_PUBLIC

    # -- scopes ----------------------------------------------------------------------------

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: OAuthlibRequest,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        confidential = client.client_type == AbstractApplication.CLIENT_CONFIDENTIAL
        if scopes_refused(scopes, allowed=client_allowed_scopes(client), confidential=confidential):
            return False
        # Back-end services act for no user: they get system/ scopes and nothing else; people
        # signing in through a client never grant system/ scopes.
        backend = request.grant_type == "client_credentials"
        return all(is_system_scope(scope) == backend for scope in scopes)

    def get_default_scopes(
        self, client_id: str, request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> list[str]:
        if request.grant_type == "client_credentials":
            return [s for s in client_allowed_scopes(request.client) if is_system_scope(s)]
        return ["openid"]

    # -- tokens ----------------------------------------------------------------------------

    def validate_bearer_token(
        self, token: str, scopes: list[str], request: OAuthlibRequest
    ) -> bool:
        if not super().validate_bearer_token(token, scopes, request):
            return False
        if request.client is not None and client_is_disabled(request.client):
            request.oauth2_error = {"error": "invalid_token"}
            return False
        return True

    def _save_bearer_token(
        self, token: dict[str, Any], request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> Any:
        result = super()._save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code":
            self._redeem_code(token, request)
        return result

    def _redeem_code(self, token: dict[str, Any], request: OAuthlibRequest) -> None:
        # Claimed here, inside the transaction that saved the tokens: of two concurrent
        # exchanges of one code only the one that deletes the grant keeps its tokens.
        deleted, _ = (
            get_grant_model().objects.filter(code=request.code, application=request.client).delete()
        )
        if not deleted:
            raise errors.InvalidGrantError(request=request)
        request.yunyi_code_claimed = True
        access_checksum = token_checksum(token["access_token"])
        family = (
            get_refresh_token_model()
            .objects.filter(access_token__token_checksum=access_checksum)
            .values_list("token_family", flat=True)
            .first()
        )
        now = timezone.now()
        RedeemedAuthorizationCode.objects.filter(expires__lt=now).delete()
        RedeemedAuthorizationCode.objects.create(
            code_checksum=token_checksum(request.code),
            application=request.client,
            access_token_checksum=access_checksum,
            token_family=family,
            expires=now + timedelta(seconds=ACCESS_TOKEN_SECONDS + REFRESH_TOKEN_SECONDS),
        )

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> None:
        if getattr(request, "yunyi_code_claimed", False):
            return
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)

    def validate_code(
        self,
        client_id: str,
        code: str,
        client: Any,
        request: OAuthlibRequest,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        revoke_tokens_of_replayed_code(code=code, application=client)
        return False

    # -- OpenID Connect claims -------------------------------------------------------------

    def get_additional_claims(self, request: OAuthlibRequest) -> dict[str, Any]:
        return user_claims(user=request.user)

    def get_discovery_claims(self, request: Any) -> list[str]:
        return ["sub", "name", "preferred_username", "fhirUser", "roles"]


def revoke_tokens_of_replayed_code(*, code: str, application: Any) -> bool:
    """Revoke every token bought with an authorization code that is being used again; True
    when the code had been redeemed before."""
    redeemed = RedeemedAuthorizationCode.objects.filter(
        code_checksum=token_checksum(code), application=application
    ).first()
    if redeemed is None:
        return False
    with transaction.atomic():
        refresh_model = get_refresh_token_model()
        if redeemed.token_family is not None:
            refresh_model.revoke_family(redeemed.token_family)
        get_access_token_model().objects.filter(
            token_checksum=redeemed.access_token_checksum
        ).delete()
    return True
