"""Audit entries for what happens at the token and revocation endpoints.

The views look at the presented token before django-oauth-toolkit acts and at the outcome after,
so each entry says what really happened (a token issued, a replay caught, a token revoked)
without signals and without ever recording a token value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.http import HttpRequest
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from yunyi.audit.models import Outcome
from yunyi.audit.services import AuditContext, audit_context_from_request, audit_record
from yunyi.identity.models import RedeemedAuthorizationCode
from yunyi.identity.selectors import token_checksum


@dataclass(frozen=True)
class PresentedGrant:
    """What the token request presented, as it stood before the request was handled."""

    grant_type: str
    replayed_code: bool = False
    revoked_refresh_family: str | None = None
    refresh_rotated: bool = False


def _context(request: HttpRequest, *, actor_id: str = "", client_id: str = "") -> AuditContext:
    base = audit_context_from_request(request)
    return AuditContext(
        actor_id=actor_id or base.actor_id,
        actor_role=base.actor_role,
        client_id=client_id,
        address=base.address,
    )


def presented_grant(request: HttpRequest) -> PresentedGrant:
    grant_type = request.POST.get("grant_type", "")
    if grant_type == "authorization_code":
        code = request.POST.get("code", "")
        replayed = (
            bool(code)
            and RedeemedAuthorizationCode.objects.filter(
                code_checksum=token_checksum(code)
            ).exists()
        )
        return PresentedGrant(grant_type, replayed_code=replayed)
    if grant_type == "refresh_token":
        value = request.POST.get("refresh_token", "")
        refresh_model = get_refresh_token_model()
        presented = (
            refresh_model.objects.filter(token_checksum=token_checksum(value))
            .order_by(F("revoked").desc(nulls_first=True))
            .first()
            if value
            else None
        )
        if presented is None or presented.revoked is None:
            return PresentedGrant(grant_type)
        rotated = refresh_model.objects.filter(
            token_family=presented.token_family, created__gt=presented.created
        ).exists()
        return PresentedGrant(
            grant_type,
            revoked_refresh_family=str(presented.token_family or ""),
            refresh_rotated=rotated,
        )
    return PresentedGrant(grant_type)


def record_token_response(
    request: HttpRequest, *, presented: PresentedGrant, status: int, body: str
) -> None:
    """Audit a token endpoint answer: issue and refresh on success; replays of codes and of
    revoked refresh tokens (which revoked their tokens) as alerts."""
    assertion = bool(request.POST.get("client_assertion"))
    if status == 200:
        answer = json.loads(body)
        access_value = answer.get("access_token")
        access = (
            get_access_token_model()
            .objects.select_related("application")
            .filter(token_checksum=token_checksum(access_value))
            .first()
            if access_value
            else None
        )
        if access is None:
            return
        audit_record(
            context=_context(
                request,
                actor_id=str(access.user_id or ""),
                client_id=access.application.client_id if access.application else "",
            ),
            action="oauth.token_refreshed"
            if presented.grant_type == "refresh_token"
            else "oauth.token_issued",
            object_type="oauth_access_token",
            object_id=str(access.pk),
            detail={
                "grant_type": presented.grant_type,
                "scope": access.scope,
                **({"client_auth": "private_key_jwt"} if assertion else {}),
                **({"launch_patient": answer["patient"]} if "patient" in answer else {}),
            },
        )
        return
    if assertion and status == 401:
        # A refused client assertion; a replayed one (a stolen assertion?) is an alert.
        description = str(json.loads(body or "{}").get("error_description", ""))[:200]
        audit_record(
            context=_context(request),
            action="oauth.client_assertion_refused",
            outcome=Outcome.DENIED,
            object_type="oauth_client",
            detail={"reason": description},
            alert="jti replay" in description,
        )
        return
    if presented.replayed_code:
        audit_record(
            context=_context(request, client_id=request.POST.get("client_id", "")),
            action="oauth.code_reuse",
            outcome=Outcome.DENIED,
            object_type="oauth_authorization_code",
            detail={"grant_type": presented.grant_type},
            alert=True,
        )
    elif presented.revoked_refresh_family is not None:
        audit_record(
            context=_context(request, client_id=request.POST.get("client_id", "")),
            action="oauth.refresh_reuse",
            outcome=Outcome.DENIED,
            object_type="oauth_token_family",
            object_id=presented.revoked_refresh_family,
            detail={"rotated": presented.refresh_rotated},
            alert=True,
        )


@dataclass(frozen=True)
class RevocationTarget:
    kind: str
    pk: int
    client_id: str
    user_id: str


def revocation_targets(request: HttpRequest) -> list[RevocationTarget]:
    value = request.POST.get("token", "")
    if not value:
        return []
    checksum = token_checksum(value)
    targets = [
        RevocationTarget(
            "access_token",
            t.pk,
            t.application.client_id if t.application else "",
            str(t.user_id or ""),
        )
        for t in get_access_token_model()
        .objects.select_related("application")
        .filter(token_checksum=checksum)
    ]
    targets += [
        RevocationTarget("refresh_token", t.pk, t.application.client_id, str(t.user_id or ""))
        for t in get_refresh_token_model()
        .objects.select_related("application")
        .filter(token_checksum=checksum, revoked__isnull=True)
    ]
    return targets


def record_revocations(request: HttpRequest, *, targets: list[RevocationTarget]) -> None:
    """Audit the presented tokens that the revocation request actually revoked (a token of
    another client is left alone, RFC 7009 §2.1, and is not recorded as revoked)."""
    live_access = set(
        get_access_token_model()
        .objects.filter(pk__in=[t.pk for t in targets if t.kind == "access_token"])
        .values_list("pk", flat=True)
    )
    live_refresh = set(
        get_refresh_token_model()
        .objects.filter(
            pk__in=[t.pk for t in targets if t.kind == "refresh_token"], revoked__isnull=True
        )
        .values_list("pk", flat=True)
    )
    for target in targets:
        live = live_access if target.kind == "access_token" else live_refresh
        if target.pk in live:
            continue
        audit_record(
            context=_context(request, actor_id=target.user_id, client_id=target.client_id),
            action="oauth.token_revoked",
            object_type=f"oauth_{target.kind}",
            object_id=str(target.pk),
            detail={"token_type": target.kind},
        )


def record_logout(request: HttpRequest, *, user: Any, client_id: str) -> None:
    audit_record(
        context=_context(request, actor_id=str(user.pk), client_id=client_id),
        action="auth.logout",
        object_type="user",
        object_id=str(user.pk),
    )
