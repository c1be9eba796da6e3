"""Request and response bodies of the doctors API. Requests refuse unknown fields; fees are
integers in fen; times are ISO 8601 (slots in UTC, templates in the doctor's local time)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from yunyi.accounts.schemas import ErrorOut

__all__ = ["ErrorOut"]

Mode = Literal["video", "text", "in_person", "home_visit"]


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


class DepartmentOut(Schema):
    code: str
    zh: str
    en: str
    nhc_code: str


class DoctorCardOut(Schema):
    id: str
    display_name: str
    title: str
    department: str
    hospital: str
    city: str
    photo_url: str | None
    fees: dict[str, int]
    rating: float | None
    rating_count: int
    languages: list[str]
    gender: str | None


class DoctorPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[DoctorCardOut]


class SlotOut(Schema):
    start: datetime
    end: datetime
    modes: list[str]


class DoctorPublicOut(DoctorCardOut):
    bio: str
    practice_address: str
    latitude: float
    longitude: float
    service_radius_km: float
    time_zone: str
    online: bool
    slots: list[SlotOut]


class ProfileIn(StrictIn):
    display_name: str = Field(min_length=1, max_length=100)
    title: str = Field(max_length=20)
    department: str = Field(max_length=40)
    hospital: str = Field(default="", max_length=200)
    practice_address: str = Field(default="", max_length=300)
    city: str = Field(default="", max_length=60)
    latitude: float | None = None
    longitude: float | None = None
    languages: list[str] = Field(default_factory=lambda: ["zh"], max_length=14)
    fees: dict[str, int] = Field(default_factory=dict, max_length=4)
    service_radius_km: float = 0.0
    daily_capacity: int = 20
    gender: Literal["", "female", "male"] = ""
    bio: str = Field(default="", max_length=2000)
    time_zone: str = Field(default="Asia/Shanghai", max_length=64)


class LicenceOut(Schema):
    id: str
    number_masked: str
    status: str
    reason: str
    submitted_at: datetime
    reviewed_at: datetime | None
    document_count: int


class PresenceOut(Schema):
    status: Literal["online", "offline"]
    last_seen: datetime | None
    queue_room: int


class OwnProfileOut(Schema):
    id: str
    display_name: str
    title: str
    department: str
    hospital: str
    practice_address: str
    city: str
    latitude: float | None
    longitude: float | None
    languages: list[str]
    fees: dict[str, int]
    service_radius_km: float
    max_service_radius_km: float
    daily_capacity: int
    gender: str
    bio: str
    time_zone: str
    photo_url: str | None
    is_verified: bool
    rating: float | None
    rating_count: int
    updated_at: datetime
    licence: LicenceOut | None
    presence: PresenceOut | None


class TemplateIO(StrictIn):
    weekday: int = Field(ge=0, le=6)
    start_time: time
    end_time: time
    slot_minutes: int = Field(ge=1, le=1440)
    modes: list[Mode] = Field(min_length=1, max_length=4)


class ExceptionIO(StrictIn):
    kind: Literal["leave", "holiday"]
    start_date: date
    end_date: date
    note: str = Field(default="", max_length=200)


class ScheduleIO(StrictIn):
    templates: list[TemplateIO] = Field(max_length=200)
    exceptions: list[ExceptionIO] = Field(default_factory=list, max_length=200)


class ScheduleOut(ScheduleIO):
    time_zone: str


class PresenceIn(StrictIn):
    status: Literal["online", "offline"]
    queue_room: int | None = Field(default=None, ge=0, le=100)


class LicenceReviewOut(Schema):
    id: str
    doctor_id: str
    doctor_name: str
    department: str
    hospital: str
    number_masked: str
    status: str
    reason: str
    submitted_at: datetime
    reviewed_at: datetime | None
    document_count: int


class LicencePageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[LicenceReviewOut]


class DecisionIn(StrictIn):
    decision: Literal["verify", "reject", "suspend", "reinstate"]
    reason: str = Field(default="", max_length=500)
