"""Reads about OAuth clients, tokens and the claims we release about users."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from yunyi.accounts.roles import Role
from yunyi.identity.models import ClientPolicy
from yunyi.identity.scopes import DEFAULT_CLIENT_SCOPES


def token_checksum(value: str) -> str:
    """How DOT finds a token: with RFC 9700 token storage it keeps only this SHA-256."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def client_policy(application: Any) -> ClientPolicy | None:
    try:
        policy: ClientPolicy = application.yunyi_policy
    except ObjectDoesNotExist:
        return None
    return policy


def client_allowed_scopes(application: Any) -> list[str]:
    """The scopes an admin allowed this client; a client registered without a policy (e.g. by
    hand in DOT's tables) gets only the sign-in scopes."""
    policy = client_policy(application)
    return policy.allowed_scope_list() if policy is not None else list(DEFAULT_CLIENT_SCOPES)


def client_is_disabled(application: Any) -> bool:
    policy = client_policy(application)
    return policy is not None and policy.is_disabled


def client_may_introspect_any(application: Any) -> bool:
    policy = client_policy(application)
    return policy is not None and policy.may_introspect_any


def fhir_user_reference(*, user: Any) -> str | None:
    """The user's FHIR resource (the `fhirUser` claim, SMART App Launch §"fhirUser"): a
    Practitioner for clinicians, a Patient for patients. Placeholder ids until the record
    app links users to their resources."""
    roles = user.role_set()
    if Role.DOCTOR in roles or Role.PHARMACIST in roles:
        return f"Practitioner/{user.pk}"
    if Role.PATIENT in roles:
        return f"Patient/{user.pk}"
    return None


def user_claims(*, user: Any) -> dict[str, Any]:
    """OpenID Connect claims beyond `sub`; the validator releases each only with its scope."""
    claims: dict[str, Any] = {
        "name": user.display_name or user.get_full_name() or user.get_username(),
        "preferred_username": user.get_username(),
        "roles": sorted(user.role_set()),
    }
    reference = fhir_user_reference(user=user)
    if reference is not None:
        claims["fhirUser"] = reference
    return claims


def access_token_by_value(token: str) -> Any:
    """The live access token with this value, with its user, client and client policy in the
    same query; None when unknown or expired."""
    return (
        get_access_token_model()
        .objects.select_related("user", "application", "application__yunyi_policy")
        .filter(token_checksum=token_checksum(token), expires__gt=timezone.now())
        .first()
    )


def client_display_name(client_id: str) -> str:
    """The name shown on the sign-in page for the client a login continues to ("" if none)."""
    if not client_id:
        return ""
    application = (
        get_application_model()
        .objects.filter(client_id=client_id)
        .only("name", "client_id")
        .first()
    )
    return (application.name or application.client_id) if application is not None else ""


def active_user(user_id: str) -> Any:
    """The active account with this id (a sign-in in progress), or None."""
    try:
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()
    except (ValueError, ValidationError):
        return None
