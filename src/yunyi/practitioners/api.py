"""`/api/v1/doctors...`: doctor search and profiles, a doctor's own profile and schedule, the
licence review queue. Thin: check input, call one service or selector, render.

Search and public profiles need no sign-in (a doctor directory is public) and show only
verified doctors with complete profiles. Staff (doctors, administrators) hold tokens only after
a TOTP sign-in, which the identity app enforces.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from yunyi.accounts.models import User
from yunyi.accounts.roles import Role
from yunyi.audit.services import AuditContext, audit_context_from_request
from yunyi.practitioners import selectors, services
from yunyi.practitioners.conf import max_search_radius_km, max_service_radius_km
from yunyi.practitioners.departments import DEPARTMENTS
from yunyi.practitioners.errors import PractitionersErrorCode as Code
from yunyi.practitioners.errors import practitioners_error
from yunyi.practitioners.models import DoctorProfile, Licence, Presence
from yunyi.practitioners.schemas import (
    DecisionIn,
    DepartmentOut,
    DoctorCardOut,
    DoctorPageOut,
    DoctorPublicOut,
    ErrorOut,
    ExceptionIO,
    LicenceOut,
    LicencePageOut,
    LicenceReviewOut,
    OwnProfileOut,
    PresenceIn,
    PresenceOut,
    ProfileIn,
    ScheduleIO,
    ScheduleOut,
    SlotOut,
    TemplateIO,
)

router = Router(tags=["doctors"])

MAX_PAGE = 100
PROFILE_SLOT_DAYS = 7
MAX_TEXT = 100


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def _context(request: HttpRequest, role: str) -> AuditContext:
    return audit_context_from_request(request, role=role)


def _page(limit: str | None, offset: str | None) -> tuple[int, int]:
    try:
        size = int(limit) if limit not in (None, "") else 20
        start = int(offset) if offset not in (None, "") else 0
    except ValueError:
        raise practitioners_error(Code.INVALID_SEARCH, details={"field": "limit"}) from None
    if not 1 <= size <= MAX_PAGE or not 0 <= start <= 1_000_000:
        raise practitioners_error(Code.INVALID_SEARCH, details={"field": "limit"})
    return size, start


def _number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise practitioners_error(Code.INVALID_COORDINATES) from None
    if not math.isfinite(value):
        raise practitioners_error(Code.INVALID_COORDINATES)
    return value


@router.get("/departments", auth=None, response={200: list[DepartmentOut]})
def departments(request: HttpRequest) -> list[DepartmentOut]:
    return [
        DepartmentOut(code=code, zh=d["zh"], en=d["en"], nhc_code=d["nhc_code"])
        for code, d in DEPARTMENTS.items()
    ]


@router.get("/doctors", auth=None, response={200: DoctorPageOut, 400: ErrorOut})
def doctor_search(
    request: HttpRequest,
    department: str | None = None,
    mode: str | None = None,
    text: str | None = None,
    city: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    radius_km: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
) -> DoctorPageOut:
    """Verified doctors, filtered; with `lat` and `lon`, those within `radius_km` (default
    and cap: `PRACTITIONERS_MAX_SEARCH_RADIUS_KM`), nearest first."""
    size, start = _page(limit, offset)
    near: tuple[float, float] | None = None
    if (lat is None) != (lon is None):
        raise practitioners_error(Code.INVALID_COORDINATES)
    if lat is not None and lon is not None:
        near = services.check_coordinates(_number(lat), _number(lon))
    radius: float | None = None
    if radius_km is not None:
        try:
            radius = float(radius_km)
        except ValueError:
            raise practitioners_error(Code.INVALID_RADIUS) from None
        if not math.isfinite(radius) or radius <= 0:
            raise practitioners_error(Code.INVALID_RADIUS)
        cap = max_search_radius_km()
        if radius > cap:
            raise practitioners_error(Code.RADIUS_TOO_LARGE, details={"max_km": cap})
    search = selectors.DoctorSearch(
        department=services.check_department(department) if department else None,
        mode=services.check_mode(mode) if mode else None,
        text=(text or "").strip()[:MAX_TEXT] or None,
        city=(city or "").strip()[:60] or None,
        near=near,
        radius_km=radius if radius is not None else max_search_radius_km(),
    )
    total, cards = selectors.doctor_search(search=search, limit=size, offset=start)
    return DoctorPageOut(
        count=total,
        limit=size,
        offset=start,
        items=[DoctorCardOut(**asdict(card)) for card in cards],
    )


def _slot_out(slot: selectors.Slot) -> SlotOut:
    return SlotOut(start=slot.start, end=slot.end, modes=sorted(slot.modes))


@router.get("/doctors/{doctor_id}", auth=None, response={200: DoctorPublicOut, 404: ErrorOut})
def doctor_public(request: HttpRequest, doctor_id: str) -> DoctorPublicOut:
    """A verified doctor's public profile with free slots over the next 7 days."""
    profile = selectors.public_profile(doctor_id=doctor_id)
    if profile is None:
        raise practitioners_error(Code.DOCTOR_NOT_FOUND)
    now = timezone.now()
    slots = selectors.free_slots(
        profile=profile, start=now, end=now + timedelta(days=PROFILE_SLOT_DAYS)
    )
    online = selectors.online_now(profile=profile)
    assert profile.latitude is not None and profile.longitude is not None
    return DoctorPublicOut(
        **asdict(selectors.card_of(profile)),
        bio=profile.bio,
        practice_address=profile.practice_address,
        latitude=profile.latitude,
        longitude=profile.longitude,
        service_radius_km=profile.service_radius_km,
        time_zone=profile.time_zone,
        online=online,
        slots=[_slot_out(s) for s in slots],
    )


@router.get("/doctors/{doctor_id}/photo", auth=None, response={200: None, 404: ErrorOut})
def doctor_photo(request: HttpRequest, doctor_id: str) -> HttpResponse:
    photo = selectors.doctor_photo(doctor_id=doctor_id)
    if photo is None:
        raise practitioners_error(Code.DOCTOR_NOT_FOUND)
    data, content_type = photo
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


# --- The doctor's own practice ------------------------------------------------------------


def _licence_out(licence: Licence | None) -> LicenceOut | None:
    if licence is None:
        return None
    return LicenceOut(
        id=str(licence.id),
        number_masked=licence.number_masked,
        status=licence.status,
        reason=licence.reason,
        submitted_at=licence.submitted_at,
        reviewed_at=licence.reviewed_at,
        document_count=licence.documents.count(),
    )


def _presence_out(presence: Presence | None) -> PresenceOut | None:
    if presence is None:
        return None
    return PresenceOut(
        status=presence.status,  # type: ignore[arg-type]
        last_seen=presence.last_seen,
        queue_room=presence.queue_room,
    )


def _own_profile_out(user: User, profile: DoctorProfile) -> OwnProfileOut:
    return OwnProfileOut(
        id=str(user.pk),
        display_name=profile.display_name,
        title=profile.title,
        department=profile.department,
        hospital=profile.hospital,
        practice_address=profile.practice_address,
        city=profile.city,
        latitude=profile.latitude,
        longitude=profile.longitude,
        languages=list(profile.languages or ()),
        fees=profile.fees(),
        service_radius_km=profile.service_radius_km,
        max_service_radius_km=max_service_radius_km(),
        daily_capacity=profile.daily_capacity,
        gender=profile.gender,
        bio=profile.bio,
        time_zone=profile.time_zone,
        photo_url=selectors.photo_url(profile) if profile.is_verified else None,
        is_verified=profile.is_verified,
        rating=profile.rating_mean,
        rating_count=profile.rating_count,
        updated_at=profile.updated_at,
        licence=_licence_out(selectors.latest_licence(user_id=user.pk)),
        presence=_presence_out(selectors.own_presence(profile=profile)),
    )


def _own(request: HttpRequest) -> tuple[User, DoctorProfile]:
    user = _user(request)
    if not user.has_role(Role.DOCTOR):
        raise practitioners_error(Code.NOT_A_DOCTOR)
    profile = selectors.own_profile(user_id=user.pk)
    if profile is None:
        raise practitioners_error(Code.PROFILE_MISSING)
    return user, profile


@router.get("/doctors/me/profile", response={200: OwnProfileOut, 403: ErrorOut, 409: ErrorOut})
def own_profile(request: HttpRequest) -> OwnProfileOut:
    user, profile = _own(request)
    return _own_profile_out(user, profile)


@router.put(
    "/doctors/me/profile",
    response={200: OwnProfileOut, 400: ErrorOut, 403: ErrorOut, 422: ErrorOut},
)
def own_profile_save(request: HttpRequest, payload: ProfileIn) -> OwnProfileOut:
    user = _user(request)
    profile = services.profile_save(user=user, data=services.ProfileInput(**payload.model_dump()))
    return _own_profile_out(user, profile)


@router.post(
    "/doctors/me/profile/photo",
    response={200: OwnProfileOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
)
def own_photo(request: HttpRequest, photo: File[UploadedFile]) -> OwnProfileOut:
    user = _user(request)
    if photo.size is None or photo.size > services.MAX_PHOTO_BYTES:
        raise practitioners_error(Code.INVALID_PHOTO)
    profile = services.profile_photo_set(user=user, data=photo.read())
    return _own_profile_out(user, profile)


def _schedule_out(profile: DoctorProfile) -> ScheduleOut:
    templates, exceptions = selectors.own_schedule(profile=profile)
    return ScheduleOut(
        time_zone=profile.time_zone,
        templates=[
            TemplateIO(
                weekday=t.weekday,
                start_time=t.start_time,
                end_time=t.end_time,
                slot_minutes=t.slot_minutes,
                modes=list(t.modes),
            )
            for t in templates
        ],
        exceptions=[
            ExceptionIO(kind=e.kind, start_date=e.start_date, end_date=e.end_date, note=e.note)  # type: ignore[arg-type]
            for e in exceptions
        ],
    )


@router.get("/doctors/me/schedule", response={200: ScheduleOut, 403: ErrorOut, 409: ErrorOut})
def own_schedule(request: HttpRequest) -> ScheduleOut:
    _doctor, profile = _own(request)
    return _schedule_out(profile)


@router.put(
    "/doctors/me/schedule",
    response={200: ScheduleOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def own_schedule_replace(request: HttpRequest, payload: ScheduleIO) -> ScheduleOut:
    profile = services.schedule_replace(
        user=_user(request),
        templates=[services.TemplateInput(**t.model_dump()) for t in payload.templates],
        exceptions=[services.ExceptionInput(**e.model_dump()) for e in payload.exceptions],
    )
    return _schedule_out(profile)


@router.post(
    "/doctors/me/presence",
    response={200: PresenceOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def own_presence(request: HttpRequest, payload: PresenceIn) -> PresenceOut:
    presence = services.presence_set(
        user=_user(request), status=payload.status, queue_room=payload.queue_room
    )
    out = _presence_out(presence)
    assert out is not None
    return out


@router.post(
    "/doctors/me/licence",
    response={201: LicenceOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def own_licence_submit(
    request: HttpRequest,
    number: Form[str],
    documents: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status[LicenceOut]:
    """Submit the practising certificate (multipart: `number`, up to 5 `documents`)."""
    files = list(documents or [])
    if len(files) > services.MAX_DOCUMENTS or len(number) > 60:
        raise practitioners_error(
            Code.INVALID_DOCUMENT
            if len(files) > services.MAX_DOCUMENTS
            else Code.INVALID_LICENCE_NUMBER
        )
    uploads: list[services.DocumentInput] = []
    for f in files:
        if f.size is None or f.size > services.MAX_DOCUMENT_BYTES:
            raise practitioners_error(Code.INVALID_DOCUMENT)
        uploads.append(services.DocumentInput(content_type=f.content_type or "", content=f.read()))
    licence = services.licence_submit(
        user=_user(request),
        number=number,
        documents=uploads,
        context=_context(request, Role.DOCTOR),
    )
    out = _licence_out(licence)
    assert out is not None
    return Status(201, out)


# --- Licence review (administrators) ------------------------------------------------------


def _require_admin(request: HttpRequest) -> User:
    user = _user(request)
    if not user.has_role(Role.ADMIN):
        raise practitioners_error(Code.NOT_AN_ADMIN)
    return user


def _review_out(
    licence: Licence, profile: DoctorProfile | None, documents: int
) -> LicenceReviewOut:
    return LicenceReviewOut(
        id=str(licence.id),
        doctor_id=str(licence.doctor_id),
        doctor_name=profile.display_name if profile else licence.doctor.display_name,
        department=profile.department if profile else "",
        hospital=profile.hospital if profile else "",
        number_masked=licence.number_masked,
        status=licence.status,
        reason=licence.reason,
        submitted_at=licence.submitted_at,
        reviewed_at=licence.reviewed_at,
        document_count=documents,
    )


@router.get("/licences", response={200: LicencePageOut, 400: ErrorOut, 403: ErrorOut})
def licence_queue(
    request: HttpRequest,
    status: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
) -> LicencePageOut:
    _require_admin(request)
    size, start = _page(limit, offset)
    if status is not None and status not in selectors.ALL_LICENCE_STATUSES:
        raise practitioners_error(Code.INVALID_SEARCH, details={"field": "status"})
    total, rows = selectors.licences_for_review(status=status, limit=size, offset=start)
    return LicencePageOut(
        count=total,
        limit=size,
        offset=start,
        items=[_review_out(lic, profile, docs) for lic, profile, docs in rows],
    )


@router.post(
    "/licences/{licence_id}/decision",
    response={
        200: LicenceReviewOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
)
def licence_decision(
    request: HttpRequest, licence_id: str, payload: DecisionIn
) -> LicenceReviewOut:
    reviewer = _require_admin(request)
    if selectors.valid_id(licence_id) is None:
        raise practitioners_error(Code.LICENCE_NOT_FOUND)
    licence = services.licence_decide(
        reviewer=reviewer,
        licence_id=licence_id,
        decision=payload.decision,
        reason=payload.reason,
        context=_context(request, Role.ADMIN),
    )
    row = selectors.licence_for_review(licence_id=str(licence.id))
    assert row is not None
    return _review_out(*row)


@router.get(
    "/licences/{licence_id}/documents/{number}",
    response={200: None, 403: ErrorOut, 404: ErrorOut},
)
def licence_document(request: HttpRequest, licence_id: str, number: int) -> HttpResponse:
    """One scan of a licence, for the reviewing administrator (audited)."""
    reviewer = _require_admin(request)
    document = services.licence_document_open(
        reviewer=reviewer,
        licence_id=licence_id,
        number=number,
        context=_context(request, Role.ADMIN),
    )
    response = HttpResponse(document.content, content_type=document.content_type)
    response["Content-Disposition"] = "attachment"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
