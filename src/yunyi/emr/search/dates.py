"""FHIR dates as half-open UTC ranges [low, high) (FHIR R4 §3.1.1.5.2 "date").

Every date, dateTime and instant stands for the whole period its precision names: "2020" is the
year 2020, "2020-03" all of March, "2020-03-01T10:00" that minute. Values without a zone are read in
UTC so that indexing and searching agree. Open Period ends stretch to the ends of time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

MIN_DATETIME = datetime(1, 1, 1, tzinfo=UTC)
MAX_DATETIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)

_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


class DateFormatError(ValueError):
    pass


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year = moment.year + index // 12
    if year > 9999:
        return MAX_DATETIME
    return moment.replace(year=year, month=index % 12 + 1)


def _plus(moment: datetime, step: timedelta) -> datetime:
    try:
        return min(moment + step, MAX_DATETIME)
    except OverflowError:
        return MAX_DATETIME


def date_range(text: str) -> tuple[datetime, datetime]:
    """The [low, high) UTC range of a FHIR date, dateTime or instant string (time may omit seconds,
    as search values do). Raises DateFormatError on anything else."""
    match = _DATE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise DateFormatError(f"not a FHIR date: {text!r}")
    parts = match.groupdict()
    try:
        year = int(parts["y"])
        if year < 1:
            raise DateFormatError(f"year out of range: {text!r}")
        if parts["m"] is None:
            low = datetime(year, 1, 1, tzinfo=UTC)
            return low, _add_months(low, 12)
        month = int(parts["m"])
        if parts["d"] is None:
            low = datetime(year, month, 1, tzinfo=UTC)
            return low, _add_months(low, 1)
        day = int(parts["d"])
        if parts["H"] is None:
            low = datetime(year, month, day, tzinfo=UTC)
            return low, _plus(low, timedelta(days=1))
        zone = parts["tz"]
        if zone is None or zone == "Z":
            offset = timedelta(0)
        else:
            sign = 1 if zone[0] == "+" else -1
            offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
            if abs(offset) > timedelta(hours=14):
                raise DateFormatError(f"zone offset out of range: {text!r}")
        fraction = parts["f"] or ""
        micro = int((fraction + "000000")[:6])
        local = datetime(
            year, month, day, int(parts["H"]), int(parts["M"]), int(parts["S"] or 0), micro
        )
    except (ValueError, OverflowError) as error:
        if isinstance(error, DateFormatError):
            raise
        raise DateFormatError(f"not a valid date: {text!r}") from error
    if parts["S"] is None:
        step = timedelta(minutes=1)
    elif not fraction:
        step = timedelta(seconds=1)
    else:
        step = timedelta(microseconds=10 ** max(0, 6 - len(fraction)))
    try:
        low = (local - offset).replace(tzinfo=UTC)
    except OverflowError as error:
        raise DateFormatError(f"date out of range: {text!r}") from error
    return low, _plus(low, step)


def period_range(period: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """A Period's range: from its start's low to its end's high; a missing end is open."""
    start, end = period.get("start"), period.get("end")
    if start is None and end is None:
        return None
    low = date_range(start)[0] if isinstance(start, str) else MIN_DATETIME
    high = date_range(end)[1] if isinstance(end, str) else MAX_DATETIME
    return low, max(low, high)


def format_instant(moment: datetime) -> str:
    """An instant as FHIR writes it: UTC with milliseconds, e.g. 2024-05-01T08:30:00.123Z."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
