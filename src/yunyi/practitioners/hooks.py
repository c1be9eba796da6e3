"""Where bookings and queues plug in. Practitioners must not import consultations (it sits above
us), so the consultations app registers its readers here from its `AppConfig.ready`; until then
no slot is booked and every queue is empty.

Each reader takes many doctors at once and must answer with a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

# (doctor user ids, window start, window end) -> {doctor id: booked slot start instants}
BookedStartsReader = Callable[[Sequence[str], datetime, datetime], dict[str, set[datetime]]]
# (doctor user ids) -> {doctor id: patients waiting now in the on-demand queue}
QueueLengthReader = Callable[[Sequence[str]], dict[str, int]]


def _no_bookings(
    doctor_ids: Sequence[str], start: datetime, end: datetime
) -> dict[str, set[datetime]]:
    return {}


def _no_queues(doctor_ids: Sequence[str]) -> dict[str, int]:
    return {}


_readers: dict[str, object] = {"booked": _no_bookings, "queues": _no_queues}


def register_booking_readers(*, booked: BookedStartsReader, queues: QueueLengthReader) -> None:
    _readers["booked"] = booked
    _readers["queues"] = queues


def booked_starts(
    doctor_ids: Sequence[str], start: datetime, end: datetime
) -> dict[str, set[datetime]]:
    reader: BookedStartsReader = _readers["booked"]  # type: ignore[assignment]
    return reader(doctor_ids, start, end)


def queue_lengths(doctor_ids: Sequence[str]) -> dict[str, int]:
    reader: QueueLengthReader = _readers["queues"]  # type: ignore[assignment]
    return reader(doctor_ids)
