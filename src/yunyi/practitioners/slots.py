"""Appointment slots generated on the fly from weekly templates, in the doctor's time zone.

Plain Python (no Django). Slots are never stored: a slot is a template block cut into equal
lengths on one local date, minus exception days, minus slots already booked. Local wall-clock
times are resolved with `zoneinfo`, so a slot in a daylight-saving gap does not exist and an
ambiguous one (the repeated hour) is offered once, at its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Template:
    weekday: int  # 0 Monday ... 6 Sunday
    start: time
    end: time
    slot_minutes: int
    modes: frozenset[str]


@dataclass(frozen=True, slots=True)
class DayRange:
    """Inclusive range of local dates."""

    first: date
    last: date


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    modes: frozenset[str]


def minutes_of(t: time) -> int:
    return t.hour * 60 + t.minute


def template_problems(templates: Iterable[Template]) -> list[tuple[int, str]]:
    """(index, problem) for templates that cannot be cut into slots or overlap another one of
    the same weekday. Problems: "order", "slot_length", "not_divisible", "overlap"."""
    problems: list[tuple[int, str]] = []
    items = list(templates)
    for i, t in enumerate(items):
        length = minutes_of(t.end) - minutes_of(t.start)
        if length <= 0:
            problems.append((i, "order"))
        elif not 5 <= t.slot_minutes <= 240:
            problems.append((i, "slot_length"))
        elif length % t.slot_minutes:
            problems.append((i, "not_divisible"))
    by_day = sorted(range(len(items)), key=lambda i: (items[i].weekday, items[i].start))
    # Sorted by start, a block overlaps an earlier one iff it starts before the latest end so far.
    latest_end: dict[int, time] = {}
    for i in by_day:
        t = items[i]
        if t.weekday in latest_end and t.start < latest_end[t.weekday]:
            problems.append((i, "overlap"))
        latest_end[t.weekday] = max(latest_end.get(t.weekday, t.end), t.end)
    return problems


def _local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """The instant at `minute` past local midnight of `day`, or None inside a DST gap."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    local = naive.replace(tzinfo=zone, fold=0)
    # A wall time that does not exist changes when it round-trips through UTC.
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return None
    return local.astimezone(UTC)


def generate_slots(
    *,
    templates: Iterable[Template],
    exceptions: Iterable[DayRange],
    time_zone: str,
    start: datetime,
    end: datetime,
    booked: Set[datetime] = frozenset(),
    mode: str | None = None,
) -> Iterator[Slot]:
    """Free slots starting in [start, end) (aware datetimes), in time order.

    `booked` holds start instants (aware) already taken; `mode` keeps only templates offering it.
    """
    zone = ZoneInfo(time_zone)
    by_weekday: dict[int, list[Template]] = {}
    for t in templates:
        if mode is None or mode in t.modes:
            by_weekday.setdefault(t.weekday, []).append(t)
    for day_templates in by_weekday.values():
        day_templates.sort(key=lambda t: t.start)
    if not by_weekday or end <= start:
        return
    closed = list(exceptions)
    booked_utc = {b.astimezone(UTC) for b in booked}
    day = start.astimezone(zone).date()
    last_day = end.astimezone(zone).date()
    while day <= last_day:
        if not any(r.first <= day <= r.last for r in closed):
            for t in by_weekday.get(day.weekday(), ()):
                step = t.slot_minutes
                for minute in range(minutes_of(t.start), minutes_of(t.end) - step + 1, step):
                    slot_start = _local_instant(day, minute, zone)
                    if slot_start is None or not start <= slot_start < end:
                        continue
                    if slot_start in booked_utc:
                        continue
                    yield Slot(slot_start, slot_start + timedelta(minutes=step), t.modes)
        day += timedelta(days=1)


def first_free_slot(**kwargs: object) -> Slot | None:
    """The earliest slot `generate_slots(**kwargs)` yields, or None."""
    return next(generate_slots(**kwargs), None)  # type: ignore[arg-type]
