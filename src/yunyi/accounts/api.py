"""Accounts API under /api/v1: sign-up, the signed-in user, real-name verification, TOTP, wards.
Thin: check input (schemas), call one service, render."""

from __future__ import annotations

import json
from dataclasses import asdict

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.responses import NinjaJSONEncoder

from yunyi.accounts import selectors, services, signup
from yunyi.accounts.models import User
from yunyi.accounts.schemas import (
    ErrorOut,
    MeOut,
    MePatchIn,
    RealNameIn,
    SignupConfirmIn,
    SignupStartIn,
    SignupStartOut,
    TotpCodeIn,
    TotpEnrolmentOut,
    WardIn,
    WardOut,
)
from yunyi.audit.services import AuditContext, audit_context_from_request

router = Router(tags=["accounts"])


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def _context(request: HttpRequest) -> AuditContext:
    return audit_context_from_request(request)


def _me(user: User) -> MeOut:
    return MeOut.model_validate(asdict(selectors.me_view(user=user)))


@router.post(
    "/accounts/signup/start",
    auth=None,
    response={202: SignupStartOut, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def signup_start(request: HttpRequest, payload: SignupStartIn) -> Status[SignupStartOut]:
    started = signup.signup_start(
        channel=payload.channel,
        address=payload.address,
        requested_from=request.META.get("REMOTE_ADDR", ""),
    )
    return Status(202, SignupStartOut(signup_id=started.signup_id, expires_in=started.expires_in))


@router.post(
    "/accounts/signup/confirm",
    auth=None,
    response={201: MeOut, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def signup_confirm(request: HttpRequest, payload: SignupConfirmIn) -> Status[MeOut]:
    user = signup.signup_confirm(
        signup_id=payload.signup_id,
        code=payload.code,
        password=payload.password,
        display_name=payload.display_name,
        context=_context(request),
    )
    return Status(201, _me(user))


# Every signed-in page asks this. The answer is rendered straight from the selector's dataclass,
# which has MeOut's shape (tests/accounts/test_me_queries.py holds them equal): validating our own
# data with pydantic and dumping it again cost as much as the database work. MeOut still
# documents the answer in the OpenAPI schema.
@router.get("/me", response={200: MeOut})
def me(request: HttpRequest) -> HttpResponse:
    body = json.dumps(asdict(selectors.me_view(user=_user(request))), cls=NinjaJSONEncoder)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


@router.patch("/me", response={200: MeOut, 422: ErrorOut})
def me_update(request: HttpRequest, payload: MePatchIn) -> MeOut:
    changes = payload.model_dump(exclude_unset=True)
    user = services.profile_update(
        user=_user(request),
        display_name=changes.get("display_name"),
        preferred_language=changes.get("preferred_language"),
    )
    return _me(user)


@router.post("/me/real-name", response={200: MeOut, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def real_name_verify(request: HttpRequest, payload: RealNameIn) -> MeOut:
    user = _user(request)
    services.real_name_verify(
        user=user,
        legal_name=payload.legal_name,
        resident_id=payload.resident_id,
        context=_context(request),
    )
    return _me(user)


@router.post("/me/mfa/totp", response={201: TotpEnrolmentOut})
def totp_enrol_begin(request: HttpRequest) -> Status[TotpEnrolmentOut]:
    enrolment = services.totp_enrol_begin(user=_user(request))
    return Status(
        201,
        TotpEnrolmentOut(
            device_id=enrolment.device_id,
            secret=enrolment.secret_base32,
            otpauth_uri=enrolment.otpauth_uri,
            qr_svg=enrolment.qr_svg,
        ),
    )


@router.post("/me/mfa/totp/confirm", response={200: MeOut, 400: ErrorOut, 422: ErrorOut})
def totp_enrol_confirm(request: HttpRequest, payload: TotpCodeIn) -> MeOut:
    user = _user(request)
    services.totp_enrol_confirm(user=user, code=payload.code, context=_context(request))
    return _me(user)


@router.delete(
    "/me/mfa/totp", response={204: None, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}
)
def totp_remove(request: HttpRequest, payload: TotpCodeIn) -> Status[None]:
    services.totp_remove(user=_user(request), code=payload.code, context=_context(request))
    return Status(204, None)


@router.get("/me/wards", response={200: list[WardOut]})
def wards(request: HttpRequest) -> list[WardOut]:
    return [
        WardOut.model_validate(asdict(ward)) for ward in selectors.wards_of(guardian=_user(request))
    ]


@router.post("/me/wards", response={201: WardOut, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def ward_create(request: HttpRequest, payload: WardIn) -> Status[WardOut]:
    link = services.ward_create(
        guardian=_user(request),
        legal_name=payload.legal_name,
        resident_id=payload.resident_id,
        relationship=payload.relationship,
        context=_context(request),
    )
    return Status(201, WardOut.model_validate(asdict(selectors.ward_view(link=link))))
