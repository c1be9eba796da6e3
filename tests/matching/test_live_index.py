"""The process-wide index: built once from the full feed, then refreshed from the change feed only
when the interval has passed (so workers converge without rescanning every doctor)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from yunyi.matching.live_index import LiveDoctorIndex

T0 = datetime(2026, 3, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Doctor:
    doctor_id: str
    lat: float = 31.23
    lon: float = 121.47
    department: str = "cardiology"
    modes: frozenset[str] = frozenset({"video"})
    service_radius_km: float = 10.0
    rating: float | None = 4.5
    rating_count: int = 10
    languages: frozenset[str] = frozenset({"zh"})
    gender: str | None = None
    daily_capacity: int = 6


@dataclass
class Changes:
    doctors: list[Doctor]
    removed_ids: list[str]
    as_of: datetime


@dataclass
class Feed:
    """The practitioners change feed's contract: everything for None, else the changes."""

    pending: list[Changes] = field(default_factory=list)
    asked: list[datetime | None] = field(default_factory=list)

    def __call__(self, since: datetime | None) -> Changes:
        self.asked.append(since)
        if since is None:
            return Changes([Doctor("a"), Doctor("b", lat=31.3)], [], T0)
        if self.pending:
            return self.pending.pop(0)
        return Changes([], [], since + timedelta(seconds=1))


def test_builds_once_then_applies_changes_only_after_the_interval():
    feed, now = Feed(), [0.0]
    live = LiveDoctorIndex(feed, refresh_seconds=10, clock=lambda: now[0])

    with live.using() as index:
        assert len(index) == 2 and live.capacity("a") == 6
    feed.pending.append(Changes([Doctor("c", daily_capacity=3)], ["a"], T0 + timedelta(seconds=5)))
    now[0] = 5.0
    with live.using() as index:
        assert "a" in index  # not due yet
    now[0] = 10.0
    with live.using() as index:
        assert sorted(d.doctor_id for d in index.doctors()) == ["b", "c"]
    assert feed.asked == [None, T0]
    assert (live.capacity("a"), live.capacity("c")) == (0, 3)
    assert (live.stats.builds, live.stats.refreshes, live.stats.removed) == (1, 1, 1)


def test_a_moved_doctor_is_found_at_the_new_place():
    feed, now = Feed(), [0.0]
    live = LiveDoctorIndex(feed, refresh_seconds=0, clock=lambda: now[0])
    with live.using():
        pass
    feed.pending.append(Changes([Doctor("a", lat=39.9, lon=116.4)], [], T0))

    with live.using() as index:
        nearest = index.nearest(lat=39.9, lon=116.4, k=1, department="cardiology", mode="video")

    assert [(n.doctor.doctor_id, round(n.distance_km, 3)) for n in nearest] == [("a", 0.0)]
