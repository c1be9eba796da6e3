"""Doctors: their public profile, licence review, weekly schedule and presence.

A doctor is matchable (searchable, recommended) only while `DoctorProfile.is_verified` is true
and the profile is complete (`MATCHABLE`). `is_verified` mirrors the doctor's latest licence
decision; the licence services set both in one transaction and bump `updated_at`, which the
matching index follows.
"""

from __future__ import annotations

import uuid
from typing import Final

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Title(models.TextChoices):
    """Professional titles of Chinese physicians (卫生专业技术职称, clinical series)."""

    CHIEF = "chief", _("Chief physician")  # 主任医师
    ASSOCIATE_CHIEF = "associate_chief", _("Associate chief physician")  # 副主任医师
    ATTENDING = "attending", _("Attending physician")  # 主治医师
    RESIDENT = "resident", _("Resident physician")  # 住院医师


class ConsultMode(models.TextChoices):
    VIDEO = "video", _("Video")
    TEXT = "text", _("Text")
    IN_PERSON = "in_person", _("In person")
    HOME_VISIT = "home_visit", _("Home visit")


# Remote modes can be served on demand from the online queue; the others need a booked slot.
REMOTE_MODES: Final = frozenset({ConsultMode.VIDEO.value, ConsultMode.TEXT.value})
ALL_MODES: Final = tuple(mode.value for mode in ConsultMode)
FEE_FIELDS: Final = {mode: f"fee_{mode}" for mode in ALL_MODES}


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class DoctorProfile(models.Model):
    """The public face of one doctor. Fees are integers in fen (1/100 yuan); a null fee means the
    doctor does not offer that mode."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="doctor_profile"
    )
    display_name = models.CharField(_("display name"), max_length=100)
    photo = models.BinaryField(_("photo"), null=True, blank=True, editable=False)
    photo_type = models.CharField(max_length=20, blank=True, editable=False)
    title = models.CharField(_("title"), max_length=20, choices=Title.choices)
    department = models.CharField(_("department"), max_length=40, db_index=True)
    hospital = models.CharField(_("hospital"), max_length=200, blank=True)
    practice_address = models.CharField(_("practice address"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True, db_index=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    fee_video = models.PositiveIntegerField(_("video fee (fen)"), null=True, blank=True)
    fee_text = models.PositiveIntegerField(_("text fee (fen)"), null=True, blank=True)
    fee_in_person = models.PositiveIntegerField(_("in-person fee (fen)"), null=True, blank=True)
    fee_home_visit = models.PositiveIntegerField(_("home-visit fee (fen)"), null=True, blank=True)
    service_radius_km = models.FloatField(_("service radius (km)"), default=0)
    rating_mean = models.FloatField(_("rating"), null=True, blank=True)
    rating_count = models.PositiveIntegerField(_("number of ratings"), default=0)
    daily_capacity = models.PositiveSmallIntegerField(_("daily capacity"), default=20)
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices, blank=True)
    bio = models.TextField(_("biography"), max_length=2000, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    is_verified = models.BooleanField(_("licence verified"), default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("doctor profile")
        verbose_name_plural = _("doctor profiles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="doctor_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="doctor_longitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="doctor_coordinates_paired",
            ),
            models.CheckConstraint(
                condition=models.Q(service_radius_km__gte=0), name="doctor_radius_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(rating_mean__isnull=True)
                | models.Q(rating_mean__gte=1, rating_mean__lte=5),
                name="doctor_rating_range",
            ),
            models.CheckConstraint(
                condition=models.Q(title__in=[t.value for t in Title]), name="doctor_title_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(gender__in=["", *(g.value for g in Gender)]),
                name="doctor_gender_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def fees(self) -> dict[str, int]:
        """Offered modes and their fee in fen."""
        return {
            mode: fee
            for mode, field in FEE_FIELDS.items()
            if (fee := getattr(self, field)) is not None
        }


# Complete enough to be found: where, what and how. Used by every public read.
MATCHABLE: Final = (
    models.Q(is_verified=True, latitude__isnull=False, longitude__isnull=False)
    & ~models.Q(department="")
    & ~models.Q(display_name="")
    & (
        models.Q(fee_video__isnull=False)
        | models.Q(fee_text__isnull=False)
        | models.Q(fee_in_person__isnull=False)
        | models.Q(fee_home_visit__isnull=False)
    )
)


class LicenceStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class Licence(models.Model):
    """A practising certificate (医师执业证书) submitted for review. The number is stored only
    encrypted, bound to this row, plus a keyed blind index so one certificate cannot be
    claimed by two doctors; what is shown is `number_masked`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="licences"
    )
    number_ciphertext = models.BinaryField(editable=False)
    number_index = models.CharField(max_length=64, editable=False, db_index=True)
    number_masked = models.CharField(_("certificate number (masked)"), max_length=40)
    status = models.CharField(
        _("status"), max_length=10, choices=LicenceStatus.choices, default=LicenceStatus.PENDING
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        constraints = [
            # One open licence per doctor; and one certificate number open for one doctor only.
            models.UniqueConstraint(
                fields=["doctor"],
                condition=models.Q(status__in=["pending", "verified", "suspended"]),
                name="one_open_licence_per_doctor",
            ),
            models.UniqueConstraint(
                fields=["number_index"],
                condition=models.Q(status__in=["pending", "verified", "suspended"]),
                name="one_open_licence_per_number",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in LicenceStatus]),
                name="licence_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number_masked} ({self.status})"

    def number_associated_data(self) -> bytes:
        return licence_number_associated_data(licence_id=str(self.id))


def licence_number_associated_data(*, licence_id: str) -> bytes:
    # Binds each ciphertext to its row: copied onto another licence it no longer decrypts.
    return f"practitioners.Licence.number:{licence_id}".encode()


class LicenceDocument(models.Model):
    """A scan of the certificate, kept in the database (small, checked, never served publicly)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="documents")
    content_type = models.CharField(max_length=40)
    content = models.BinaryField(editable=False)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.content_type} {self.size} bytes"


class WeeklyAvailability(models.Model):
    """A recurring block of the week in which the doctor offers slots, in the doctor's local time
    (`DoctorProfile.time_zone`). `weekday` is ISO-like but 0-based: 0 Monday ... 6 Sunday."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey(
        DoctorProfile, on_delete=models.CASCADE, related_name="weekly_availability"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    start_time = models.TimeField(_("start"))
    end_time = models.TimeField(_("end"))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"))
    modes = models.JSONField(_("modes"), default=list)

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="availability_weekday"),
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")),
                name="availability_start_before_end",
            ),
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gte=5, slot_minutes__lte=240),
                name="availability_slot_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start_time}-{self.end_time}"


class ExceptionKind(models.TextChoices):
    LEAVE = "leave", _("Leave")
    HOLIDAY = "holiday", _("Holiday")


class ScheduleException(models.Model):
    """Whole local days (inclusive range) on which the weekly templates do not apply."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey(
        DoctorProfile, on_delete=models.CASCADE, related_name="schedule_exceptions"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ExceptionKind.choices)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_date__lte=models.F("end_date")),
                name="exception_start_not_after_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.start_date}..{self.end_date}"


class PresenceStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")


class Presence(models.Model):
    """Whether the doctor takes on-demand remote consultations now, and how many patients may
    wait in their queue (`queue_room`)."""

    profile = models.OneToOneField(
        DoctorProfile, on_delete=models.CASCADE, primary_key=True, related_name="presence"
    )
    status = models.CharField(
        max_length=7, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE
    )
    last_seen = models.DateTimeField(null=True, blank=True)
    queue_room = models.PositiveSmallIntegerField(default=5)

    def __str__(self) -> str:
        return self.status
