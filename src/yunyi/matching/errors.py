"""Error codes of matching, and the typed error its pure algorithm modules raise on bad input.

The algorithm modules cannot import Django, so they raise `MatchingInputError` carrying a code
from `MatchingErrorCode` and machine-readable `details`; the API layer maps it to
`yunyi.core.errors.ApplicationError(code, <translated message>, status=400, details=...)`.
Its English `message` is for logs and tests, never shown to users as is.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class MatchingErrorCode(StrEnum):
    INVALID_COORDINATES = "invalid_coordinates"  # 400: not a number, NaN/inf, or out of range
    UNKNOWN_DEPARTMENT = "unknown_department"  # 400: not in the department catalogue
    UNKNOWN_MODE = "unknown_mode"  # 400: not a ConsultMode
    INVALID_TIME_WINDOW = "invalid_time_window"  # 400: reversed, empty, naive or too long
    TIME_WINDOW_IN_PAST = "time_window_in_past"  # 400: the window ends before now
    RADIUS_OUT_OF_RANGE = "radius_out_of_range"  # 400: <= 0 or beyond the cap
    LIMIT_OUT_OF_RANGE = "limit_out_of_range"  # 400: result count outside [1, cap]
    K_OUT_OF_RANGE = "k_out_of_range"  # 400: region count outside [2, cap] or > distinct points
    INVALID_CAPACITY = "invalid_capacity"  # 400: negative or non-integer doctor capacity
    INVALID_PARAMETER = "invalid_parameter"  # 400: a per-doctor number (minutes, km) < 0 or NaN
    INVALID_WEIGHTS = "invalid_weights"  # 400 (settings): negative or non-finite ranking weight
    SHAPE_MISMATCH = "shape_mismatch"  # 400: arrays of one entity differ in length
    INVALID_PERIOD = "invalid_period"  # 400: a regions period reversed or too long
    ASSIGNMENT_RUN_NOT_FOUND = "assignment_run_not_found"  # 404: no such run
    NOT_FOR_THIS_PATIENT = "not_for_this_patient"  # 403: a guardian asking for another's ward


class MatchingInputError(ValueError):
    """Bad input to a matching algorithm; `code` says which rule it broke."""

    def __init__(
        self, code: MatchingErrorCode, message: str, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}

    def __repr__(self) -> str:
        return f"MatchingInputError({self.code.value!r}, {self.message!r}, {self.details!r})"
