"""Writes of the practitioners app: a doctor's profile, photo, schedule and presence, licence
submission and the administrators' licence decisions (audited).

Every service validates all of its input before writing, and writes in one transaction, so bad
input changes nothing.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import uuid
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Final

from django.db import IntegrityError, transaction
from django.utils import timezone

from yunyi.accounts.models import User
from yunyi.accounts.roles import Role
from yunyi.audit.services import AuditContext, audit_record
from yunyi.practitioners.conf import max_service_radius_km
from yunyi.practitioners.departments import DEPARTMENTS
from yunyi.practitioners.errors import PractitionersErrorCode as Code
from yunyi.practitioners.errors import practitioners_error
from yunyi.practitioners.models import (
    ALL_MODES,
    FEE_FIELDS,
    DoctorProfile,
    ExceptionKind,
    Gender,
    Licence,
    LicenceDocument,
    LicenceStatus,
    Presence,
    PresenceStatus,
    ScheduleException,
    Title,
    WeeklyAvailability,
    licence_number_associated_data,
)
from yunyi.practitioners.slots import Template, template_problems
from yunyi.privacy.fields import blind_index, encrypt_field

# ISO 639 codes doctors may list (Chinese, Cantonese and the languages of China's autonomous
# regions, plus common foreign languages).
LANGUAGES: Final = frozenset(
    {"zh", "yue", "en", "ja", "ko", "fr", "de", "es", "ru", "ar", "bo", "ug", "mn", "za"}
)
MAX_FEE_FEN: Final = 10_000_000
MAX_TEMPLATES: Final = 50
MAX_EXCEPTIONS: Final = 100
MAX_EXCEPTION_DAYS: Final = 366
MAX_PHOTO_BYTES: Final = 2 * 1024 * 1024
MAX_PHOTO_PIXELS: Final = 4096 * 4096
PHOTO_EDGE: Final = 512
MAX_DOCUMENT_BYTES: Final = 5 * 1024 * 1024
MAX_DOCUMENTS: Final = 5
LICENCE_NUMBER_PURPOSE: Final = "practitioners.licence_number"
_LICENCE_NUMBER: Final = re.compile(r"^[0-9A-Z]{6,30}$")
# What a document's first bytes must be for its declared type.
_DOCUMENT_MAGIC: Final = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}


def _require_doctor(user: User) -> None:
    if not user.has_role(Role.DOCTOR):
        raise practitioners_error(Code.NOT_A_DOCTOR)


def _require_admin(user: User) -> None:
    if not user.has_role(Role.ADMIN):
        raise practitioners_error(Code.NOT_AN_ADMIN)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_coordinates(lat: object, lon: object) -> tuple[float, float]:
    if not (_is_number(lat) and _is_number(lon)):
        raise practitioners_error(Code.INVALID_COORDINATES)
    assert isinstance(lat, int | float) and isinstance(lon, int | float)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise practitioners_error(Code.INVALID_COORDINATES)
    return float(lat), float(lon)


def check_department(code: str) -> str:
    if code not in DEPARTMENTS:
        raise practitioners_error(Code.UNKNOWN_DEPARTMENT, details={"department": code[:60]})
    return code


def check_mode(mode: str) -> str:
    if mode not in ALL_MODES:
        raise practitioners_error(Code.UNKNOWN_MODE, details={"mode": mode[:40]})
    return mode


# --- Profile -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileInput:
    display_name: str
    title: str
    department: str
    hospital: str = ""
    practice_address: str = ""
    city: str = ""
    latitude: float | None = None
    longitude: float | None = None
    languages: Sequence[str] = ("zh",)
    fees: dict[str, int] = field(default_factory=dict)  # mode -> fen
    service_radius_km: float = 0.0
    daily_capacity: int = 20
    gender: str = ""
    bio: str = ""
    time_zone: str = "Asia/Shanghai"


def _clean_profile(data: ProfileInput) -> dict[str, object]:
    name = data.display_name.strip()
    if not name or len(name) > 100:
        raise practitioners_error(Code.INVALID_PROFILE, details={"field": "display_name"})
    if data.title not in Title.values:
        raise practitioners_error(Code.UNKNOWN_TITLE)
    check_department(data.department)
    lat: float | None = None
    lon: float | None = None
    if data.latitude is not None or data.longitude is not None:
        lat, lon = check_coordinates(data.latitude, data.longitude)
    languages = list(dict.fromkeys(data.languages))
    unknown = sorted(set(languages) - LANGUAGES)
    if unknown or not languages:
        raise practitioners_error(Code.UNKNOWN_LANGUAGE, details={"languages": unknown[:10]})
    fees: dict[str, int | None] = dict.fromkeys(FEE_FIELDS.values())
    for mode, fee in data.fees.items():
        check_mode(mode)
        if not isinstance(fee, int) or isinstance(fee, bool) or not 0 <= fee <= MAX_FEE_FEN:
            raise practitioners_error(Code.INVALID_FEE, details={"mode": mode})
        fees[FEE_FIELDS[mode]] = fee
    radius = data.service_radius_km
    if not _is_number(radius) or radius < 0:
        raise practitioners_error(Code.INVALID_RADIUS)
    cap = max_service_radius_km()
    if radius > cap:
        raise practitioners_error(Code.RADIUS_TOO_LARGE, details={"max_km": cap})
    if data.gender not in ("", *Gender.values):
        raise practitioners_error(Code.INVALID_PROFILE, details={"field": "gender"})
    if not isinstance(data.daily_capacity, int) or not 0 <= data.daily_capacity <= 500:
        raise practitioners_error(Code.INVALID_PROFILE, details={"field": "daily_capacity"})
    try:
        zoneinfo.ZoneInfo(data.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise practitioners_error(Code.UNKNOWN_TIME_ZONE) from None
    return {
        "display_name": name,
        "title": data.title,
        "department": data.department,
        "hospital": data.hospital.strip(),
        "practice_address": data.practice_address.strip(),
        "city": data.city.strip(),
        "latitude": lat,
        "longitude": lon,
        "languages": languages,
        **fees,
        "service_radius_km": float(radius),
        "daily_capacity": data.daily_capacity,
        "gender": data.gender,
        "bio": data.bio.strip(),
        "time_zone": data.time_zone,
    }


def profile_save(*, user: User, data: ProfileInput) -> DoctorProfile:
    """Create or replace the doctor's own profile. Verification is kept: it belongs to the
    licence, not to the profile's wording."""
    _require_doctor(user)
    values = _clean_profile(data)
    with transaction.atomic():
        profile = DoctorProfile.objects.select_for_update().filter(user=user).first()
        if profile is None:
            profile = DoctorProfile(user=user, is_verified=_has_verified_licence(user))
        for name, value in values.items():
            setattr(profile, name, value)
        profile.save()
        Presence.objects.get_or_create(profile=profile)
    return profile


def _has_verified_licence(user: User) -> bool:
    return Licence.objects.filter(doctor=user, status=LicenceStatus.VERIFIED).exists()


def _own_profile(user: User) -> DoctorProfile:
    _require_doctor(user)
    profile = DoctorProfile.objects.filter(user=user).defer("photo").first()
    if profile is None:
        raise practitioners_error(Code.PROFILE_MISSING)
    return profile


def profile_photo_set(*, user: User, data: bytes) -> DoctorProfile:
    """Store the doctor's photo, re-encoded as a JPEG of at most 512 px a side: re-encoding
    drops metadata (location in EXIF) and anything that is not pixels."""
    from PIL import Image, UnidentifiedImageError

    profile = _own_profile(user)
    if not data or len(data) > MAX_PHOTO_BYTES:
        raise practitioners_error(Code.INVALID_PHOTO)
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("JPEG", "PNG", "WEBP"):
                raise practitioners_error(Code.INVALID_PHOTO)
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise practitioners_error(Code.INVALID_PHOTO)
            image.thumbnail((PHOTO_EDGE, PHOTO_EDGE))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=85)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise practitioners_error(Code.INVALID_PHOTO) from None
    profile.photo = out.getvalue()
    profile.photo_type = "image/jpeg"
    profile.save(update_fields=["photo", "photo_type", "updated_at"])
    return profile


# --- Schedule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateInput:
    weekday: int
    start_time: time
    end_time: time
    slot_minutes: int
    modes: Sequence[str]


@dataclass(frozen=True)
class ExceptionInput:
    kind: str
    start_date: date
    end_date: date
    note: str = ""


def _check_templates(templates: Sequence[TemplateInput]) -> list[Template]:
    if len(templates) > MAX_TEMPLATES:
        raise practitioners_error(Code.TOO_MANY_ENTRIES)
    checked: list[Template] = []
    for t in templates:
        if not 0 <= t.weekday <= 6 or not t.modes:
            raise practitioners_error(Code.INVALID_TEMPLATE)
        if t.start_time.second or t.end_time.second or t.start_time.microsecond:
            raise practitioners_error(Code.INVALID_TEMPLATE)
        for mode in t.modes:
            check_mode(mode)
        checked.append(
            Template(t.weekday, t.start_time, t.end_time, t.slot_minutes, frozenset(t.modes))
        )
    problems = template_problems(checked)
    for kind, code in (
        ("order", Code.INVALID_TEMPLATE),
        ("slot_length", Code.INVALID_TEMPLATE),
        ("not_divisible", Code.SLOT_NOT_DIVIDING),
        ("overlap", Code.OVERLAPPING_TEMPLATES),
    ):
        indexes = sorted(i for i, problem in problems if problem == kind)
        if indexes:
            raise practitioners_error(code, details={"templates": indexes})
    return checked


def _check_exceptions(exceptions: Sequence[ExceptionInput]) -> None:
    if len(exceptions) > MAX_EXCEPTIONS:
        raise practitioners_error(Code.TOO_MANY_ENTRIES)
    for e in exceptions:
        if e.kind not in ExceptionKind.values or e.start_date > e.end_date:
            raise practitioners_error(Code.INVALID_EXCEPTION)
        if e.end_date - e.start_date > timedelta(days=MAX_EXCEPTION_DAYS):
            raise practitioners_error(Code.INVALID_EXCEPTION)


def schedule_replace(
    *, user: User, templates: Sequence[TemplateInput], exceptions: Sequence[ExceptionInput]
) -> DoctorProfile:
    """Replace the doctor's weekly templates and exceptions as a whole (one transaction)."""
    profile = _own_profile(user)
    _check_templates(templates)
    _check_exceptions(exceptions)
    with transaction.atomic():
        # Locks the profile so two concurrent replacements cannot interleave their rows.
        DoctorProfile.objects.select_for_update().filter(pk=profile.pk).values_list("pk").get()
        WeeklyAvailability.objects.filter(profile=profile).delete()
        ScheduleException.objects.filter(profile=profile).delete()
        WeeklyAvailability.objects.bulk_create(
            WeeklyAvailability(
                profile=profile,
                weekday=t.weekday,
                start_time=t.start_time,
                end_time=t.end_time,
                slot_minutes=t.slot_minutes,
                modes=sorted(set(t.modes)),
            )
            for t in templates
        )
        ScheduleException.objects.bulk_create(
            ScheduleException(
                profile=profile,
                kind=e.kind,
                start_date=e.start_date,
                end_date=e.end_date,
                note=e.note.strip()[:200],
            )
            for e in exceptions
        )
    return profile


def presence_set(*, user: User, status: str, queue_room: int | None = None) -> Presence:
    profile = _own_profile(user)
    if status not in PresenceStatus.values:
        raise practitioners_error(Code.INVALID_PROFILE, details={"field": "status"})
    if queue_room is not None and not 0 <= queue_room <= 100:
        raise practitioners_error(Code.INVALID_PROFILE, details={"field": "queue_room"})
    presence, _created = Presence.objects.get_or_create(profile=profile)
    presence.status = status
    presence.last_seen = timezone.now()
    if queue_room is not None:
        presence.queue_room = queue_room
    presence.save()
    return presence


# --- Licences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentInput:
    content_type: str
    content: bytes


def normalize_licence_number(number: str) -> str:
    return re.sub(r"[\s-]", "", number).upper()


def mask_licence_number(number: str) -> str:
    return f"{number[:2]}{'*' * (len(number) - 6)}{number[-4:]}"


def _check_documents(documents: Sequence[DocumentInput]) -> None:
    if len(documents) > MAX_DOCUMENTS:
        raise practitioners_error(Code.INVALID_DOCUMENT)
    for d in documents:
        magic = _DOCUMENT_MAGIC.get(d.content_type)
        if magic is None or not d.content or len(d.content) > MAX_DOCUMENT_BYTES:
            raise practitioners_error(Code.INVALID_DOCUMENT)
        if not d.content.startswith(magic):
            raise practitioners_error(Code.INVALID_DOCUMENT)


def licence_submit(
    *, user: User, number: str, documents: Sequence[DocumentInput], context: AuditContext
) -> Licence:
    """Submit a practising certificate for review. A doctor has at most one open (pending,
    verified or suspended) licence; after a rejection they may submit again."""
    profile = _own_profile(user)
    clean = normalize_licence_number(number)
    if not _LICENCE_NUMBER.match(clean):
        raise practitioners_error(Code.INVALID_LICENCE_NUMBER)
    _check_documents(documents)
    index = blind_index(clean, purpose=LICENCE_NUMBER_PURPOSE)
    open_statuses = (LicenceStatus.PENDING, LicenceStatus.VERIFIED, LicenceStatus.SUSPENDED)
    try:
        with transaction.atomic():
            DoctorProfile.objects.select_for_update().filter(pk=profile.pk).values_list("pk").get()
            if Licence.objects.filter(doctor=user, status__in=open_statuses).exists():
                raise practitioners_error(Code.LICENCE_OPEN)
            if Licence.objects.filter(number_index=index, status__in=open_statuses).exists():
                raise practitioners_error(Code.LICENCE_NUMBER_TAKEN)
            licence = Licence(
                doctor=user,
                number_index=index,
                number_masked=mask_licence_number(clean),
                submitted_at=timezone.now(),
            )
            licence.number_ciphertext = encrypt_field(
                clean, associated_data=licence_number_associated_data(licence_id=str(licence.id))
            )
            licence.save()
            LicenceDocument.objects.bulk_create(
                LicenceDocument(
                    licence=licence,
                    content_type=d.content_type,
                    content=d.content,
                    size=len(d.content),
                    sha256=hashlib.sha256(d.content).hexdigest(),
                )
                for d in documents
            )
            audit_record(
                context=context,
                action="practitioners.licence_submitted",
                object_type="licence",
                object_id=str(licence.id),
                detail={"documents": len(documents)},
            )
    except IntegrityError:
        # A concurrent submission won a unique constraint: say which one.
        taken = Licence.objects.filter(number_index=index, status__in=open_statuses).exclude(
            doctor=user
        )
        code = Code.LICENCE_NUMBER_TAKEN if taken.exists() else Code.LICENCE_OPEN
        raise practitioners_error(code) from None
    return licence


class Decision:
    VERIFY = "verify"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


# decision -> (statuses it applies to, resulting status, reason required)
DECISIONS: Final[dict[str, tuple[frozenset[str], str, bool]]] = {
    Decision.VERIFY: (frozenset({LicenceStatus.PENDING}), LicenceStatus.VERIFIED, False),
    Decision.REJECT: (frozenset({LicenceStatus.PENDING}), LicenceStatus.REJECTED, True),
    Decision.SUSPEND: (frozenset({LicenceStatus.VERIFIED}), LicenceStatus.SUSPENDED, True),
    Decision.REINSTATE: (frozenset({LicenceStatus.SUSPENDED}), LicenceStatus.VERIFIED, True),
}


def licence_decide(
    *, reviewer: User, licence_id: str, decision: str, reason: str, context: AuditContext
) -> Licence:
    """Apply an administrator's decision, mirror it onto the doctor's profile (which the
    matching index follows) and audit it, in one transaction."""
    _require_admin(reviewer)
    rule = DECISIONS.get(decision)
    if rule is None:
        raise practitioners_error(Code.INVALID_DECISION)
    allowed_from, new_status, needs_reason = rule
    reason = reason.strip()
    if needs_reason and not reason:
        raise practitioners_error(Code.REASON_REQUIRED)
    with transaction.atomic():
        licence = Licence.objects.select_for_update().filter(pk=licence_id).first()
        if licence is None:
            raise practitioners_error(Code.LICENCE_NOT_FOUND)
        if licence.status not in allowed_from:
            raise practitioners_error(
                Code.INVALID_DECISION, details={"status": licence.status, "decision": decision}
            )
        previous = licence.status
        licence.status = new_status
        licence.reason = reason[:500]
        licence.reviewed_by = reviewer
        licence.reviewed_at = timezone.now()
        licence.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at"])
        profile = DoctorProfile.objects.select_for_update().filter(user_id=licence.doctor_id)
        for p in profile.defer("photo"):
            p.is_verified = new_status == LicenceStatus.VERIFIED
            p.save(update_fields=["is_verified", "updated_at"])
        audit_record(
            context=context,
            action=f"practitioners.licence_{decision}",
            object_type="licence",
            object_id=str(licence.id),
            detail={"from": previous, "to": new_status, "doctor_id": str(licence.doctor_id)},
        )
    return licence


def licence_document_open(
    *, reviewer: User, licence_id: str, number: int, context: AuditContext
) -> LicenceDocument:
    """The `number`-th (0-based, upload order) document of a licence, for review; audited, as
    a certificate scan carries personal data."""
    _require_admin(reviewer)
    try:
        uuid.UUID(licence_id)
    except ValueError:
        raise practitioners_error(Code.LICENCE_NOT_FOUND) from None
    documents = LicenceDocument.objects.filter(licence_id=licence_id).order_by("uploaded_at", "id")
    found = list(documents[number : number + 1]) if 0 <= number < MAX_DOCUMENTS else []
    if not found:
        raise practitioners_error(Code.LICENCE_NOT_FOUND)
    document = found[0]
    with transaction.atomic():
        audit_record(
            context=context,
            action="practitioners.licence_document_read",
            object_type="licence",
            object_id=licence_id,
            detail={"document": number},
        )
    return document
