"""Matching's errors as the platform's `ApplicationError`: the one place that maps the pure
modules' `MatchingInputError` codes to a status and a translated message."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yunyi.core.errors import ApplicationError
from yunyi.matching.errors import MatchingErrorCode, MatchingInputError

_MESSAGES: dict[MatchingErrorCode, tuple[int, Promise]] = {
    MatchingErrorCode.INVALID_COORDINATES: (
        400,
        _("Coordinates must be numbers: latitude within ±90, longitude within ±180."),
    ),
    MatchingErrorCode.UNKNOWN_DEPARTMENT: (400, _("Unknown department.")),
    MatchingErrorCode.UNKNOWN_MODE: (400, _("Unknown consultation mode.")),
    MatchingErrorCode.INVALID_TIME_WINDOW: (
        400,
        _("The time window must end after it starts and may not be too long."),
    ),
    MatchingErrorCode.TIME_WINDOW_IN_PAST: (400, _("The time window is in the past.")),
    MatchingErrorCode.RADIUS_OUT_OF_RANGE: (400, _("The search radius is out of range.")),
    MatchingErrorCode.LIMIT_OUT_OF_RANGE: (400, _("The number of results is out of range.")),
    MatchingErrorCode.K_OUT_OF_RANGE: (400, _("The number of regions is out of range.")),
    MatchingErrorCode.INVALID_CAPACITY: (400, _("Doctor capacities must be whole numbers.")),
    MatchingErrorCode.INVALID_PARAMETER: (400, _("A parameter is out of range.")),
    MatchingErrorCode.INVALID_WEIGHTS: (400, _("A ranking weight is out of range.")),
    MatchingErrorCode.SHAPE_MISMATCH: (400, _("The input arrays differ in length.")),
    MatchingErrorCode.INVALID_PERIOD: (
        400,
        _("The period must end after it starts and may not be too long."),
    ),
    MatchingErrorCode.ASSIGNMENT_RUN_NOT_FOUND: (404, _("No such assignment run.")),
    MatchingErrorCode.NOT_FOR_THIS_PATIENT: (403, _("You may not search for this patient.")),
}


def matching_error(code: MatchingErrorCode, *, details: Any = None) -> ApplicationError:
    status, message = _MESSAGES[code]
    return ApplicationError(code, str(message), status=status, details=details or None)


def from_input_error(exc: MatchingInputError) -> ApplicationError:
    return matching_error(exc.code, details=exc.details)
