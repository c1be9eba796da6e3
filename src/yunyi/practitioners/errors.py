"""Error codes of the practitioners app, and the one place that builds its `ApplicationError`s."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yunyi.core.errors import ApplicationError


class PractitionersErrorCode(StrEnum):
    NOT_A_DOCTOR = "not_a_doctor"  # 403: the caller has no doctor role
    NOT_AN_ADMIN = "not_an_admin"  # 403: licence review is for administrators
    DOCTOR_NOT_FOUND = "doctor_not_found"  # 404: no such matchable doctor
    PROFILE_MISSING = "profile_missing"  # 409: the doctor has no profile yet
    LICENCE_NOT_FOUND = "licence_not_found"  # 404
    # Profile fields.
    INVALID_PROFILE = "invalid_profile"  # 400 (details: the field)
    UNKNOWN_DEPARTMENT = "unknown_department"  # 400
    UNKNOWN_MODE = "unknown_mode"  # 400
    UNKNOWN_TITLE = "unknown_title"  # 400
    UNKNOWN_LANGUAGE = "unknown_language"  # 400
    UNKNOWN_TIME_ZONE = "unknown_time_zone"  # 400
    INVALID_COORDINATES = "invalid_coordinates"  # 400: not numbers, or out of range
    INVALID_FEE = "invalid_fee"  # 400
    RADIUS_TOO_LARGE = "radius_too_large"  # 400 (details: the cap in km)
    INVALID_RADIUS = "invalid_radius"  # 400: negative or not a number
    INVALID_PHOTO = "invalid_photo"  # 400: not a JPEG/PNG/WebP image, or too large
    # Schedule.
    OVERLAPPING_TEMPLATES = "overlapping_templates"  # 400 (details: the template indexes)
    SLOT_NOT_DIVIDING = "slot_not_dividing"  # 400: the block is not a multiple of the slot
    INVALID_TEMPLATE = "invalid_template"  # 400: start not before end, odd slot length
    INVALID_EXCEPTION = "invalid_exception"  # 400: first day after last day, too long
    TOO_MANY_ENTRIES = "too_many_entries"  # 400
    # Search.
    INVALID_SEARCH = "invalid_search"  # 400: near without both coordinates, etc.
    # Licences.
    INVALID_LICENCE_NUMBER = "invalid_licence_number"  # 400
    INVALID_DOCUMENT = "invalid_document"  # 400
    LICENCE_OPEN = "licence_open"  # 409: a pending or verified licence exists already
    LICENCE_NUMBER_TAKEN = "licence_number_taken"  # 409: another doctor holds this number
    INVALID_DECISION = "invalid_decision"  # 409: not allowed from the licence's status
    REASON_REQUIRED = "reason_required"  # 400: reject and suspend need a reason


_MESSAGES: dict[PractitionersErrorCode, tuple[Promise, int]] = {
    PractitionersErrorCode.NOT_A_DOCTOR: (_("Only doctors can do this."), 403),
    PractitionersErrorCode.NOT_AN_ADMIN: (_("Only administrators can review licences."), 403),
    PractitionersErrorCode.DOCTOR_NOT_FOUND: (_("There is no such doctor."), 404),
    PractitionersErrorCode.PROFILE_MISSING: (_("Fill in your doctor profile first."), 409),
    PractitionersErrorCode.LICENCE_NOT_FOUND: (_("There is no such licence."), 404),
    PractitionersErrorCode.INVALID_PROFILE: (_("A profile field is not valid."), 400),
    PractitionersErrorCode.UNKNOWN_DEPARTMENT: (_("The department is not in the catalogue."), 400),
    PractitionersErrorCode.UNKNOWN_MODE: (
        _("The consultation mode must be video, text, in_person or home_visit."),
        400,
    ),
    PractitionersErrorCode.UNKNOWN_TITLE: (_("The professional title is not known."), 400),
    PractitionersErrorCode.UNKNOWN_LANGUAGE: (_("A language code is not supported."), 400),
    PractitionersErrorCode.UNKNOWN_TIME_ZONE: (_("The time zone is not known."), 400),
    PractitionersErrorCode.INVALID_COORDINATES: (
        _("Latitude must be a number from -90 to 90 and longitude from -180 to 180."),
        400,
    ),
    PractitionersErrorCode.INVALID_FEE: (
        _("A fee must be a whole number of fen from 0 to 10,000,000."),
        400,
    ),
    PractitionersErrorCode.RADIUS_TOO_LARGE: (_("The radius is larger than allowed."), 400),
    PractitionersErrorCode.INVALID_RADIUS: (_("The radius must be a number of kilometres."), 400),
    PractitionersErrorCode.INVALID_PHOTO: (
        _("The photo must be a JPEG, PNG or WebP image of at most 2 MB."),
        400,
    ),
    PractitionersErrorCode.OVERLAPPING_TEMPLATES: (
        _("Two availability blocks on the same weekday overlap."),
        400,
    ),
    PractitionersErrorCode.SLOT_NOT_DIVIDING: (
        _("The slot length must divide the availability block exactly."),
        400,
    ),
    PractitionersErrorCode.INVALID_TEMPLATE: (
        _("An availability block must start before it ends, with slots of 5 to 240 minutes."),
        400,
    ),
    PractitionersErrorCode.INVALID_EXCEPTION: (
        _("An exception must start on or before its last day and last at most a year."),
        400,
    ),
    PractitionersErrorCode.TOO_MANY_ENTRIES: (_("The schedule has too many entries."), 400),
    PractitionersErrorCode.INVALID_SEARCH: (_("The search parameters are not valid."), 400),
    PractitionersErrorCode.INVALID_LICENCE_NUMBER: (
        _("The certificate number must be 6 to 30 letters or digits."),
        400,
    ),
    PractitionersErrorCode.INVALID_DOCUMENT: (
        _("Documents must be PDF, JPEG or PNG files of at most 5 MB, at most 5 of them."),
        400,
    ),
    PractitionersErrorCode.LICENCE_OPEN: (
        _("You already have a licence under review or verified."),
        409,
    ),
    PractitionersErrorCode.LICENCE_NUMBER_TAKEN: (
        _("This certificate number is already registered."),
        409,
    ),
    PractitionersErrorCode.INVALID_DECISION: (
        _("This decision is not possible for the licence in its current status."),
        409,
    ),
    PractitionersErrorCode.REASON_REQUIRED: (_("Give a reason for this decision."), 400),
}


def practitioners_error(code: PractitionersErrorCode, *, details: Any = None) -> ApplicationError:
    """The `ApplicationError` for `code`, with its message and HTTP status."""
    message, status = _MESSAGES[code]
    return ApplicationError(code, message, status=status, details=details)  # type: ignore[arg-type]
