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
- `private_key_jwt` (RFC 7523 §2.2, SMART Backend Services): a client with a registered JWK Set
  authenticates with a signed assertion, once per `jti`, and never with its secret; each
  failure is `invalid_client` with a description of what to fix.
- SMART standalone launch (`launch/patient`): the patient chosen at consent is bound to the
  code, then to every access and refresh token it buys, and returned as `patient` in each
  token response, refreshes included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
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

from yunyi.identity.client_assertion import (
    JWT_BEARER,
    AssertionRefused,
    assertion_issuer,
    verify_assertion,
)
from yunyi.identity.models import LaunchContext, RedeemedAuthorizationCode
from yunyi.identity.provider_settings import ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS
from yunyi.identity.scopes import is_system_scope, scopes_refused
from yunyi.identity.selectors import (
    client_allowed_scopes,
    client_is_disabled,
    client_jwks,
    token_checksum,
    user_claims,
)
from yunyi.identity.services import client_assertion_remember

# Set by the authorization view from the consent (the patient a `launch/patient` app opens).
LAUNCH_PATIENT_ATTRIBUTE = "yunyi_launch_patient"


def token_endpoint_urls(request_uri: str) -> set[str]:
    """The audiences a client assertion may name: our token endpoint URL (from BASE_URL, or
    from the request when it is unset), with or without its trailing slash."""
    base = str(getattr(settings, "BASE_URL", "") or "").rstrip("/")
    if not base:
        scheme, _sep, rest = request_uri.partition("://")
        base = f"{scheme}://{rest.split('/', 1)[0]}"
    url = base + reverse("oauth2_provider:token")
    return {url, url.rstrip("/")}


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

    def _assertion_presented(self, request: OAuthlibRequest) -> bool:
        return bool(
            getattr(request, "client_assertion_type", None)
            or getattr(request, "client_assertion", None)
        )

    def client_authentication_required(
        self, request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> bool:
        if self._assertion_presented(request):
            return True
        return bool(super().client_authentication_required(request, *args, **kwargs))

    def authenticate_client(self, request: OAuthlibRequest, *args: Any, **kwargs: Any) -> bool:
        if self._assertion_presented(request):
            return self._authenticate_with_assertion(request)
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        if client_jwks(request.client):
            raise errors.InvalidClientError(
                description="This client authenticates with private_key_jwt, not a secret.",
                request=request,
            )
        return True

    def _authenticate_with_assertion(self, request: OAuthlibRequest) -> bool:
        """RFC 7523 §3; raises `invalid_client` with what went wrong."""
        try:
            client = self._asserted_client(request)
        except AssertionRefused as refused:
            request.client = None
            raise errors.InvalidClientError(
                description=refused.description, request=request
            ) from refused
        request.client = client
        request.client_id = client.client_id
        return True

    def _asserted_client(self, request: OAuthlibRequest) -> Any:
        if getattr(request, "client_assertion_type", None) != JWT_BEARER:
            raise AssertionRefused(f"client_assertion_type must be {JWT_BEARER}.")
        assertion = getattr(request, "client_assertion", None) or ""
        if self._extract_basic_auth(request) or getattr(request, "client_secret", None):
            raise AssertionRefused("Use one client authentication method, not several.")
        client_id = assertion_issuer(assertion)
        if request.client_id and request.client_id != client_id:
            raise AssertionRefused("client_id differs from the client_assertion's iss.")
        request.client = None
        client = self._load_application(client_id, request)
        if client is None or client.client_type != AbstractApplication.CLIENT_CONFIDENTIAL:
            raise AssertionRefused("The client_assertion's iss is not a known client.")
        jwks = client_jwks(client)
        if not jwks:
            raise AssertionRefused("This client has no registered keys (use its secret).")
        now = timezone.now()
        verified = verify_assertion(
            assertion,
            client_id=client_id,
            jwks_json=jwks,
            audiences=token_endpoint_urls(request.uri),
            now=now.timestamp(),
        )
        expires = datetime.fromtimestamp(verified.expires_at, tz=UTC)
        if not client_assertion_remember(application=client, jti=verified.jti, expires=expires):
            raise AssertionRefused("This client_assertion was used before (jti replay).")
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
        self._bind_launch_context(token, request)
        if request.grant_type == "authorization_code":
            self._redeem_code(token, request)
        return result

    def _create_authorization_code(
        self, request: OAuthlibRequest, code: dict[str, str], expires: Any = None
    ) -> Any:
        grant = super()._create_authorization_code(request, code, expires)
        patient_id = getattr(request, LAUNCH_PATIENT_ATTRIBUTE, None)
        if patient_id:
            LaunchContext.objects.create(grant=grant, patient_id=patient_id)
        return grant

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: OAuthlibRequest, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        setattr(
            request,
            LAUNCH_PATIENT_ATTRIBUTE,
            LaunchContext.objects.filter(refresh_token=request.refresh_token_instance)
            .values_list("patient_id", flat=True)
            .first(),
        )
        return True

    def _bind_launch_context(self, token: dict[str, Any], request: OAuthlibRequest) -> None:
        """Carry the launch patient of the code (or of the refresh token being rotated) to the
        new tokens, and tell the client (SMART App Launch 2.0 §"Launch context arrives with
        your access_token")."""
        patient_id = getattr(request, LAUNCH_PATIENT_ATTRIBUTE, None)
        if request.grant_type not in ("authorization_code", "refresh_token") or not patient_id:
            return
        access = (
            get_access_token_model()
            .objects.filter(token_checksum=token_checksum(token["access_token"]))
            .first()
        )
        if access is not None:
            LaunchContext.objects.update_or_create(
                access_token=access, defaults={"patient_id": patient_id}
            )
        if token.get("refresh_token"):
            refresh_token = (
                get_refresh_token_model()
                .objects.filter(
                    token_checksum=token_checksum(token["refresh_token"]), revoked__isnull=True
                )
                .first()
            )
            if refresh_token is not None:
                LaunchContext.objects.update_or_create(
                    refresh_token=refresh_token, defaults={"patient_id": patient_id}
                )
        token["patient"] = patient_id

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
            setattr(
                request,
                LAUNCH_PATIENT_ATTRIBUTE,
                LaunchContext.objects.filter(grant__code=code, grant__application=client)
                .values_list("patient_id", flat=True)
                .first(),
            )
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
