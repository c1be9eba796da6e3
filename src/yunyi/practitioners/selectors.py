"""Reads of the practitioners app. Public reads (search, cards, matching) only ever see doctors
that are verified and have a complete profile (`models.MATCHABLE`).

The matching contract (`DoctorForMatching`, `DoctorAvailability`, `MatchingChanges`,
`matching_changes_since`, `doctor_availability`, `doctor_cards`) is what `yunyi.matching` codes
against; change it only together with that app.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from yunyi.practitioners import hooks
from yunyi.practitioners.geo import bounding_box, haversine_km
from yunyi.practitioners.models import (
    ALL_MODES,
    FEE_FIELDS,
    MATCHABLE,
    REMOTE_MODES,
    DoctorProfile,
    Licence,
    LicenceStatus,
    Presence,
    PresenceStatus,
    ScheduleException,
    WeeklyAvailability,
)
from yunyi.practitioners.slots import DayRange, Slot, Template, generate_slots

# A change committed while a feed read runs may carry an `updated_at` a little before the read's
# clock: `as_of` is moved back by this much, so such a change is delivered (again) next time.
CHANGE_FEED_OVERLAP = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class DoctorForMatching:
    doctor_id: str  # the doctor's User UUID as str (Practitioner/<id> in the record)
    lat: float
    lon: float
    department: str  # code in practitioners.departments.DEPARTMENTS
    modes: frozenset[str]  # subset of {"video", "text", "in_person", "home_visit"}
    service_radius_km: float
    rating: float | None
    rating_count: int
    languages: frozenset[str]  # e.g. {"zh", "en"}
    gender: str | None  # "female" | "male" | None
    daily_capacity: int


@dataclass(frozen=True, slots=True)
class DoctorAvailability:
    next_slot_at: datetime | None  # earliest free slot start within the window (aware UTC)
    online: bool  # online now with room in the on-demand queue
    queue_length: int  # patients waiting now (0 until consultations exist)


@dataclass(frozen=True, slots=True)
class MatchingChanges:
    doctors: list[DoctorForMatching]  # verified doctors changed since `since` (all when None)
    removed_ids: list[str]  # doctors no longer matchable (suspended, profile gone...)
    as_of: datetime  # pass back as `since` next time


@dataclass(frozen=True, slots=True)
class DoctorCard:
    """The public summary of a doctor in result lists."""

    id: str
    display_name: str
    title: str
    department: str
    hospital: str
    city: str
    photo_url: str | None
    fees: dict[str, int]  # mode -> fee in fen
    rating: float | None
    rating_count: int
    languages: list[str]
    gender: str | None


def valid_id(raw: str) -> str | None:
    ids = _valid_ids([raw])
    return ids[0] if ids else None


def _valid_ids(doctor_ids: Iterable[str]) -> list[str]:
    # Malformed ids are simply not doctors; a UUID lookup with one would raise on PostgreSQL.
    valid: list[str] = []
    for raw in doctor_ids:
        try:
            valid.append(str(uuid.UUID(str(raw))))
        except ValueError:
            continue
    return valid


def matchable_profiles() -> QuerySet[DoctorProfile]:
    return DoctorProfile.objects.filter(MATCHABLE)


def _for_matching(p: DoctorProfile) -> DoctorForMatching:
    assert p.latitude is not None and p.longitude is not None
    return DoctorForMatching(
        doctor_id=str(p.user_id),
        lat=p.latitude,
        lon=p.longitude,
        department=p.department,
        modes=frozenset(p.fees()),
        service_radius_km=p.service_radius_km,
        rating=p.rating_mean,
        rating_count=p.rating_count,
        languages=frozenset(p.languages or ()),
        gender=p.gender or None,
        daily_capacity=p.daily_capacity,
    )


_MATCHING_FIELDS = (
    "user_id",
    "latitude",
    "longitude",
    "department",
    *FEE_FIELDS.values(),
    "service_radius_km",
    "rating_mean",
    "rating_count",
    "languages",
    "gender",
    "daily_capacity",
)


def matching_changes_since(since: datetime | None) -> MatchingChanges:
    """Matchable doctors whose profile or licence changed at or after `since` (all when None),
    and the ids of doctors changed in that time that are no longer matchable. Two queries."""
    as_of = timezone.now() - CHANGE_FEED_OVERLAP
    changed = DoctorProfile.objects.all()
    if since is not None:
        changed = changed.filter(updated_at__gte=since)
    doctors = [_for_matching(p) for p in changed.filter(MATCHABLE).only(*_MATCHING_FIELDS)]
    removed: list[str] = []
    if since is not None:
        removed = [str(i) for i in changed.exclude(MATCHABLE).values_list("user_id", flat=True)]
    return MatchingChanges(doctors=doctors, removed_ids=removed, as_of=as_of)


def _templates_by_profile(profile_ids: Iterable[Any]) -> dict[Any, list[Template]]:
    out: dict[Any, list[Template]] = {}
    rows = WeeklyAvailability.objects.filter(profile_id__in=list(profile_ids)).values_list(
        "profile_id", "weekday", "start_time", "end_time", "slot_minutes", "modes"
    )
    for profile_id, weekday, start, end, minutes, modes in rows:
        out.setdefault(profile_id, []).append(
            Template(weekday, start, end, minutes, frozenset(modes or ()))
        )
    return out


def _exceptions_by_profile(
    profile_ids: Iterable[Any], first: date, last: date
) -> dict[Any, list[DayRange]]:
    out: dict[Any, list[DayRange]] = {}
    rows = ScheduleException.objects.filter(
        profile_id__in=list(profile_ids), start_date__lte=last, end_date__gte=first
    ).values_list("profile_id", "start_date", "end_date")
    for profile_id, start_date, end_date in rows:
        out.setdefault(profile_id, []).append(DayRange(start_date, end_date))
    return out


def doctor_availability(
    doctor_ids: Sequence[str], mode: str, start: datetime, end: datetime
) -> dict[str, DoctorAvailability]:
    """For each matchable doctor among `doctor_ids` offering `mode`: the first free slot in
    [start, end) (never in the past) and whether they are online with queue room (remote modes
    only). Three queries whatever the number of doctors, plus the booking readers' own."""
    ids = _valid_ids(doctor_ids)
    if mode not in FEE_FIELDS or not ids:
        return {}
    start = max(start, timezone.now())
    rows = list(
        matchable_profiles()
        .filter(user_id__in=ids, **{f"{FEE_FIELDS[mode]}__isnull": False})
        .values_list("id", "user_id", "time_zone", "presence__status", "presence__queue_room")
    )
    if not rows:
        return {}
    profile_ids = [row[0] for row in rows]
    templates = _templates_by_profile(profile_ids)
    # Exception dates are local; a day either side covers every time zone.
    exceptions = _exceptions_by_profile(
        profile_ids, (start - timedelta(days=1)).date(), (end + timedelta(days=1)).date()
    )
    found_ids = [str(row[1]) for row in rows]
    booked = hooks.booked_starts(found_ids, start, end) if end > start else {}
    queues = hooks.queue_lengths(found_ids)
    result: dict[str, DoctorAvailability] = {}
    for profile_id, user_id, time_zone, status, queue_room in rows:
        doctor_id = str(user_id)
        slot = next(
            generate_slots(
                templates=templates.get(profile_id, ()),
                exceptions=exceptions.get(profile_id, ()),
                time_zone=time_zone,
                start=start,
                end=end,
                booked=booked.get(doctor_id, set()),
                mode=mode,
            ),
            None,
        )
        waiting = queues.get(doctor_id, 0)
        online = (
            mode in REMOTE_MODES and status == PresenceStatus.ONLINE and waiting < (queue_room or 0)
        )
        result[doctor_id] = DoctorAvailability(
            next_slot_at=slot.start.astimezone(UTC) if slot else None,
            online=online,
            queue_length=waiting,
        )
    return result


def photo_url(profile: DoctorProfile) -> str | None:
    if not profile.photo_type:
        return None
    version = int(profile.updated_at.timestamp()) if profile.updated_at else 0
    return f"/api/v1/doctors/{profile.user_id}/photo?v={version}"


def card_of(p: DoctorProfile) -> DoctorCard:
    return DoctorCard(
        id=str(p.user_id),
        display_name=p.display_name,
        title=p.title,
        department=p.department,
        hospital=p.hospital,
        city=p.city,
        photo_url=photo_url(p),
        fees=p.fees(),
        rating=p.rating_mean,
        rating_count=p.rating_count,
        languages=list(p.languages or ()),
        gender=p.gender or None,
    )


# Everything a card shows, and never the photo bytes.
CARD_FIELDS = (
    "user_id",
    "display_name",
    "title",
    "department",
    "hospital",
    "city",
    "photo_type",
    "updated_at",
    *FEE_FIELDS.values(),
    "rating_mean",
    "rating_count",
    "languages",
    "gender",
)


def doctor_cards(doctor_ids: Sequence[str]) -> dict[str, DoctorCard]:
    """Public cards of the matchable doctors among `doctor_ids`, by id. One query."""
    ids = _valid_ids(doctor_ids)
    if not ids:
        return {}
    profiles = matchable_profiles().filter(user_id__in=ids).only(*CARD_FIELDS)
    return {str(p.user_id): card_of(p) for p in profiles}


# --- Search and public profile ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoctorSearch:
    department: str | None = None
    mode: str | None = None
    text: str | None = None
    city: str | None = None
    near: tuple[float, float] | None = None  # (lat, lon)
    radius_km: float | None = None


def doctor_search(*, search: DoctorSearch, limit: int, offset: int) -> tuple[int, list[DoctorCard]]:
    """(total, one page of cards). With `near`, doctors within `radius_km` of the point (a
    bounding box in SQL, then the exact great-circle distance), nearest first; otherwise by
    rating. For large scale, `yunyi.matching` keeps a spatial index."""
    qs = matchable_profiles()
    if search.department:
        qs = qs.filter(department=search.department)
    if search.mode:
        qs = qs.filter(**{f"{FEE_FIELDS[search.mode]}__isnull": False})
    if search.city:
        qs = qs.filter(city__iexact=search.city)
    if search.text:
        text = search.text
        qs = qs.filter(
            Q(display_name__icontains=text)
            | Q(hospital__icontains=text)
            | Q(practice_address__icontains=text)
            | Q(city__icontains=text)
        )
    qs = qs.only(*CARD_FIELDS, "latitude", "longitude")
    if search.near is None:
        ordered = qs.order_by("-rating_mean", "-rating_count", "display_name", "user_id")
        total = ordered.count()
        return total, [card_of(p) for p in ordered[offset : offset + limit]]
    lat, lon = search.near
    radius = search.radius_km if search.radius_km is not None else 50.0
    south, north, west, east = bounding_box(lat, lon, radius)
    qs = qs.filter(latitude__gte=south, latitude__lte=north)
    if west <= east:
        qs = qs.filter(longitude__gte=west, longitude__lte=east)
    else:  # the box crosses the antimeridian
        qs = qs.filter(Q(longitude__gte=west) | Q(longitude__lte=east))
    near: list[tuple[float, str, DoctorProfile]] = []
    for p in qs:
        assert p.latitude is not None and p.longitude is not None
        distance = haversine_km(lat, lon, p.latitude, p.longitude)
        if distance <= radius:
            near.append((distance, str(p.user_id), p))
    near.sort(key=lambda item: (item[0], item[1]))
    return len(near), [card_of(p) for _, _, p in near[offset : offset + limit]]


def public_profile(*, doctor_id: str) -> DoctorProfile | None:
    ids = _valid_ids([doctor_id])
    if not ids:
        return None
    return matchable_profiles().filter(user_id=ids[0]).defer("photo").first()


def free_slots(
    *, profile: DoctorProfile, start: datetime, end: datetime, mode: str | None = None
) -> list[Slot]:
    """Every free slot of one doctor in [start, end), never in the past."""
    start = max(start, timezone.now())
    templates = _templates_by_profile([profile.pk]).get(profile.pk, [])
    exceptions = _exceptions_by_profile(
        [profile.pk], (start - timedelta(days=1)).date(), (end + timedelta(days=1)).date()
    ).get(profile.pk, [])
    booked = hooks.booked_starts([str(profile.user_id)], start, end).get(
        str(profile.user_id), set()
    )
    return list(
        generate_slots(
            templates=templates,
            exceptions=exceptions,
            time_zone=profile.time_zone,
            start=start,
            end=end,
            booked=booked,
            mode=mode,
        )
    )


def online_now(*, profile: DoctorProfile) -> bool:
    """Whether the doctor takes on-demand remote consultations now: online, offering video or
    text, with room left in the queue."""
    if not any(mode in REMOTE_MODES for mode in profile.fees()):
        return False
    presence = Presence.objects.filter(profile=profile).first()
    if presence is None or presence.status != PresenceStatus.ONLINE:
        return False
    waiting = hooks.queue_lengths([str(profile.user_id)]).get(str(profile.user_id), 0)
    return waiting < presence.queue_room


def doctor_photo(*, doctor_id: str) -> tuple[bytes, str] | None:
    ids = _valid_ids([doctor_id])
    if not ids:
        return None
    row = (
        matchable_profiles()
        .filter(user_id=ids[0])
        .exclude(photo_type="")
        .values_list("photo", "photo_type")
        .first()
    )
    if row is None or row[0] is None:
        return None
    return bytes(row[0]), row[1]


# --- The doctor's own view and the review queue -------------------------------------------


def own_profile(*, user_id: Any) -> DoctorProfile | None:
    return DoctorProfile.objects.filter(user_id=user_id).defer("photo").first()


def own_schedule(
    *, profile: DoctorProfile
) -> tuple[list[WeeklyAvailability], list[ScheduleException]]:
    return list(profile.weekly_availability.all()), list(profile.schedule_exceptions.all())


def own_presence(*, profile: DoctorProfile) -> Presence | None:
    return Presence.objects.filter(profile=profile).first()


def latest_licence(*, user_id: Any) -> Licence | None:
    return Licence.objects.filter(doctor_id=user_id).order_by("-submitted_at").first()


def licences_for_review(
    *, status: str | None, limit: int, offset: int
) -> tuple[int, list[tuple[Licence, DoctorProfile | None, int]]]:
    """(total, page of (licence, the doctor's profile, number of documents)). The pending queue
    is first come, first served (oldest submission first); decided licences show the latest
    decision first, which is what a reviewer looks for."""
    qs = Licence.objects.all()
    if status:
        qs = qs.filter(status=status)
    total = qs.count()
    if status == LicenceStatus.PENDING:
        order: tuple[Any, ...] = ("submitted_at", "id")
    else:
        order = (F("reviewed_at").desc(nulls_last=True), "-submitted_at", "id")
    page = list(
        qs.select_related("doctor")
        .annotate(document_count=Count("documents"))
        .order_by(*order)[offset : offset + limit]
    )
    profiles = {
        p.user_id: p
        for p in DoctorProfile.objects.filter(user_id__in=[lic.doctor_id for lic in page]).defer(
            "photo"
        )
    }
    return total, [
        (lic, profiles.get(lic.doctor_id), lic.document_count)  # type: ignore[attr-defined]
        for lic in page
    ]


def licence_for_review(*, licence_id: str) -> tuple[Licence, DoctorProfile | None, int] | None:
    if valid_id(licence_id) is None:
        return None
    licence = (
        Licence.objects.select_related("doctor")
        .annotate(document_count=Count("documents"))
        .filter(pk=licence_id)
        .first()
    )
    if licence is None:
        return None
    profile = DoctorProfile.objects.filter(user_id=licence.doctor_id).defer("photo").first()
    return licence, profile, licence.document_count  # type: ignore[attr-defined]


ALL_LICENCE_STATUSES = tuple(s.value for s in LicenceStatus)
ALL_CONSULT_MODES = ALL_MODES
