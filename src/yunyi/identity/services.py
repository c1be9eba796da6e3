"""Registering, configuring and disabling OAuth clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)

from yunyi.audit.services import AuditContext, audit_record
from yunyi.core.errors import ApplicationError
from yunyi.identity.client_assertion import AssertionRefused, public_jwks
from yunyi.identity.errors import IdentityErrorCode
from yunyi.identity.models import ClientPolicy, UsedClientAssertion
from yunyi.identity.scopes import is_known_scope, is_system_scope

WEB_CLIENT_ID = "yunyi-web"
# The web app signs people in and acts for them on the record (narrowed by the access policy).
WEB_CLIENT_SCOPES = (
    "openid profile fhirUser offline_access launch/patient patient/*.cruds user/*.cruds"
)
GRANT_TYPES = (
    AbstractApplication.GRANT_AUTHORIZATION_CODE,
    AbstractApplication.GRANT_CLIENT_CREDENTIALS,
)


@dataclass(frozen=True)
class RegisteredClient:
    application: Any
    # The plain secret of a confidential client, available only right after registration.
    client_secret: str | None


def _checked_scopes(scopes: str, *, confidential: bool) -> str:
    names = scopes.split()
    unknown = [s for s in names if not is_known_scope(s)]
    if unknown:
        raise ApplicationError(
            IdentityErrorCode.INVALID_SCOPE,
            _("Unknown scopes: %(scopes)s") % {"scopes": " ".join(unknown)},
            details={"scopes": unknown},
        )
    if not confidential and any(is_system_scope(s) for s in names):
        raise ApplicationError(
            IdentityErrorCode.INVALID_SCOPE,
            _("system/ scopes are only for confidential clients."),
        )
    return " ".join(dict.fromkeys(names))


def _checked_jwks(jwks: str | None, *, confidential: bool) -> str:
    if jwks is None:
        return ""
    if not confidential:
        raise ApplicationError(
            IdentityErrorCode.INVALID_CLIENT,
            _("Only confidential clients authenticate with a key (private_key_jwt)."),
        )
    try:
        return public_jwks(jwks)
    except AssertionRefused as exc:
        raise ApplicationError(
            IdentityErrorCode.INVALID_CLIENT,
            _("The JWK Set is not valid: %(reason)s") % {"reason": exc.description},
        ) from exc


def client_assertion_remember(*, application: Any, jti: str, expires: datetime) -> bool:
    """Remember a client assertion's `jti` until it expires; False when it was seen before (a
    replay, RFC 7523 §3 item 7). Expired entries are pruned on the way."""
    now = timezone.now()
    UsedClientAssertion.objects.filter(expires__lt=now - timedelta(minutes=5)).delete()
    try:
        with transaction.atomic():
            UsedClientAssertion.objects.create(application=application, jti=jti, expires=expires)
    except IntegrityError:
        return False
    return True


def _checked_launch_uri(launch_uri: str) -> str:
    parts = urlsplit(launch_uri)
    if len(launch_uri) > 500 or parts.scheme not in ("https", "http") or not parts.netloc:
        raise ApplicationError(
            IdentityErrorCode.INVALID_CLIENT,
            _("The launch URL must be an absolute http(s) URL."),
        )
    return launch_uri


def _full_clean(application: Any) -> None:
    try:
        application.full_clean(exclude=["client_secret"])
    except ValidationError as exc:
        raise ApplicationError(
            IdentityErrorCode.INVALID_CLIENT,
            _("The client registration is not valid."),
            details=exc.message_dict,
        ) from exc


def client_register(
    *,
    name: str,
    client_id: str,
    redirect_uris: list[str],
    confidential: bool,
    scopes: str,
    grant_type: str = AbstractApplication.GRANT_AUTHORIZATION_CODE,
    skip_authorization: bool = False,
    post_logout_redirect_uris: list[str] | None = None,
    jwks: str | None = None,
    launch_uri: str = "",
    context: AuditContext,
) -> RegisteredClient:
    """Register an OAuth client with its allowed scopes. The secret of a confidential client
    is returned once and stored only hashed. A confidential client registered with a JWK Set
    (`jwks`, JSON of public keys) authenticates with `private_key_jwt` only (RFC 7523; SMART
    Backend Services) and gets no usable secret. A client with a `launch_uri` can be launched
    by doctors from a patient's chart (SMART EHR launch)."""
    if grant_type not in GRANT_TYPES:
        raise ApplicationError(IdentityErrorCode.INVALID_CLIENT, _("Unsupported grant type."))
    if grant_type == AbstractApplication.GRANT_CLIENT_CREDENTIALS and not confidential:
        raise ApplicationError(
            IdentityErrorCode.INVALID_CLIENT,
            _("Only confidential clients may use the client credentials grant."),
        )
    model = get_application_model()
    if model.objects.filter(client_id=client_id).exists():
        raise ApplicationError(
            IdentityErrorCode.CLIENT_EXISTS,
            _("A client with this client ID exists."),
            status=409,
        )
    allowed = _checked_scopes(scopes, confidential=confidential)
    keys = _checked_jwks(jwks, confidential=confidential)
    launch = _checked_launch_uri(launch_uri) if launch_uri else ""
    # Public clients get a random secret too, never shown: an empty one would be hashed and
    # then "match" an empty client_secret parameter.
    secret = generate_client_secret()
    application = model(
        name=name,
        client_id=client_id,
        client_type=(
            AbstractApplication.CLIENT_CONFIDENTIAL
            if confidential
            else AbstractApplication.CLIENT_PUBLIC
        ),
        authorization_grant_type=grant_type,
        redirect_uris=" ".join(redirect_uris),
        post_logout_redirect_uris=" ".join(post_logout_redirect_uris or []),
        skip_authorization=skip_authorization,
        algorithm=AbstractApplication.RS256_ALGORITHM,
        client_secret=secret,
    )
    _full_clean(application)
    with transaction.atomic():
        application.save()
        ClientPolicy.objects.create(
            application=application, allowed_scopes=allowed, jwks=keys, launch_uri=launch
        )
        audit_record(
            context=context,
            action="oauth.client_registered",
            object_type="oauth_client",
            object_id=client_id,
            detail={
                "client_type": application.client_type,
                "grant_type": grant_type,
                "allowed_scopes": allowed,
                "skip_authorization": skip_authorization,
                "auth_method": "private_key_jwt" if keys else "client_secret",
                "launch_uri": launch,
            },
        )
    shown = secret if confidential and not keys else None
    return RegisteredClient(application=application, client_secret=shown)


def web_client_setup(*, context: AuditContext, base_url: str | None = None) -> Any:
    """Create or update the first-party public client `yunyi-web` (idempotent)."""
    base = (base_url if base_url is not None else settings.BASE_URL).rstrip("/")
    if not base:
        raise ApplicationError(
            IdentityErrorCode.INVALID_CLIENT,
            _("YUNYI_BASE_URL must be set to set up the web client."),
        )
    model = get_application_model()
    wanted = {
        "name": "Yunyi web",
        "client_type": AbstractApplication.CLIENT_PUBLIC,
        "authorization_grant_type": AbstractApplication.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": f"{base}/auth/callback",
        "post_logout_redirect_uris": f"{base}/",
        "skip_authorization": True,
        "algorithm": AbstractApplication.RS256_ALGORITHM,
    }
    with transaction.atomic():
        application = model.objects.select_for_update().filter(client_id=WEB_CLIENT_ID).first()
        if application is None:
            return client_register(
                name=wanted["name"],
                client_id=WEB_CLIENT_ID,
                redirect_uris=[wanted["redirect_uris"]],
                post_logout_redirect_uris=[wanted["post_logout_redirect_uris"]],
                confidential=False,
                scopes=WEB_CLIENT_SCOPES,
                skip_authorization=True,
                context=context,
            ).application
        changed = {k: v for k, v in wanted.items() if getattr(application, k) != v}
        for field, value in changed.items():
            setattr(application, field, value)
        if changed:
            _full_clean(application)
            application.save()
        policy, created = ClientPolicy.objects.get_or_create(
            application=application, defaults={"allowed_scopes": WEB_CLIENT_SCOPES}
        )
        if not created and (policy.allowed_scopes != WEB_CLIENT_SCOPES or policy.is_disabled):
            policy.allowed_scopes = WEB_CLIENT_SCOPES
            policy.disabled_at = None
            policy.save()
            changed["allowed_scopes"] = WEB_CLIENT_SCOPES
        if changed or created:
            audit_record(
                context=context,
                action="oauth.client_updated",
                object_type="oauth_client",
                object_id=WEB_CLIENT_ID,
                detail={"fields": sorted(changed)},
            )
    return application


def client_disable(*, application: Any, context: AuditContext) -> None:
    """Disable a client: it gets no more tokens, and the tokens it holds are revoked."""
    with transaction.atomic():
        policy, _created = ClientPolicy.objects.select_for_update().get_or_create(
            application=application, defaults={"allowed_scopes": ""}
        )
        if policy.is_disabled:
            return
        policy.disabled_at = timezone.now()
        policy.save(update_fields=["disabled_at", "updated"])
        now = timezone.now()
        get_refresh_token_model().objects.filter(
            application=application, revoked__isnull=True
        ).update(revoked=now, updated=now)
        get_access_token_model().objects.filter(application=application).delete()
        audit_record(
            context=context,
            action="oauth.client_disabled",
            object_type="oauth_client",
            object_id=application.client_id,
        )


def client_enable(*, application: Any, context: AuditContext) -> None:
    with transaction.atomic():
        updated = ClientPolicy.objects.filter(
            application=application, disabled_at__isnull=False
        ).update(disabled_at=None, updated=timezone.now())
        if updated:
            audit_record(
                context=context,
                action="oauth.client_enabled",
                object_type="oauth_client",
                object_id=application.client_id,
            )
