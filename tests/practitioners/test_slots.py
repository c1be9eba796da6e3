"""Slot generation from weekly templates: local time, exceptions, bookings, daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from yunyi.practitioners.slots import DayRange, Template, generate_slots, template_problems


def template(weekday: int, start: str, end: str, minutes: int = 30) -> Template:
    return Template(
        weekday, time.fromisoformat(start), time.fromisoformat(end), minutes, frozenset({"video"})
    )


def starts(slots: object) -> list[str]:
    return [s.start.isoformat() for s in slots]  # type: ignore[attr-defined]


def test_slots_are_cut_in_the_doctors_time_zone_and_given_in_utc() -> None:
    # 2026-12-07 is a Monday; 09:00 Shanghai is 01:00 UTC.
    slots = generate_slots(
        templates=[template(0, "09:00", "10:30")],
        exceptions=[],
        time_zone="Asia/Shanghai",
        start=datetime(2026, 12, 7, tzinfo=UTC),
        end=datetime(2026, 12, 8, tzinfo=UTC),
    )
    assert starts(slots) == [
        "2026-12-07T01:00:00+00:00",
        "2026-12-07T01:30:00+00:00",
        "2026-12-07T02:00:00+00:00",
    ]


def test_exception_days_and_booked_slots_are_not_offered() -> None:
    monday = template(0, "09:00", "10:00")
    slots = generate_slots(
        templates=[monday],
        exceptions=[DayRange(date(2026, 12, 14), date(2026, 12, 14))],
        time_zone="Asia/Shanghai",
        start=datetime(2026, 12, 7, tzinfo=UTC),
        end=datetime(2026, 12, 22, tzinfo=UTC),
        booked={datetime(2026, 12, 7, 1, 0, tzinfo=UTC)},
    )
    assert starts(slots) == [
        "2026-12-07T01:30:00+00:00",
        "2026-12-21T01:00:00+00:00",
        "2026-12-21T01:30:00+00:00",
    ]


def test_window_edges_are_half_open_and_mode_filters_templates() -> None:
    slots = list(
        generate_slots(
            templates=[template(0, "09:00", "10:00")],
            exceptions=[],
            time_zone="Asia/Shanghai",
            start=datetime(2026, 12, 7, 1, 30, tzinfo=UTC),
            end=datetime(2026, 12, 7, 1, 30, tzinfo=UTC),
        )
    )
    assert slots == []
    other_mode = generate_slots(
        templates=[template(0, "09:00", "10:00")],
        exceptions=[],
        time_zone="Asia/Shanghai",
        start=datetime(2026, 12, 7, tzinfo=UTC),
        end=datetime(2026, 12, 8, tzinfo=UTC),
        mode="home_visit",
    )
    assert list(other_mode) == []


def test_slots_in_a_spring_forward_gap_do_not_exist() -> None:
    # New York, Sunday 2026-03-08: clocks jump from 02:00 to 03:00.
    slots = generate_slots(
        templates=[template(6, "01:00", "04:00", minutes=60)],
        exceptions=[],
        time_zone="America/New_York",
        start=datetime(2026, 3, 8, tzinfo=UTC),
        end=datetime(2026, 3, 9, tzinfo=UTC),
    )
    # 01:00 EST = 06:00 UTC; 02:00 does not exist; 03:00 EDT = 07:00 UTC.
    assert starts(slots) == ["2026-03-08T06:00:00+00:00", "2026-03-08T07:00:00+00:00"]


def test_repeated_autumn_hour_is_offered_once() -> None:
    # New York, Sunday 2026-11-01: 01:00-02:00 happens twice.
    slots = generate_slots(
        templates=[template(6, "00:00", "03:00", minutes=60)],
        exceptions=[],
        time_zone="America/New_York",
        start=datetime(2026, 11, 1, tzinfo=UTC),
        end=datetime(2026, 11, 2, tzinfo=UTC),
    )
    assert starts(slots) == [
        "2026-11-01T04:00:00+00:00",  # 00:00 EDT
        "2026-11-01T05:00:00+00:00",  # 01:00 EDT, first occurrence
        "2026-11-01T07:00:00+00:00",  # 02:00 EST
    ]


def test_template_problems_find_overlap_order_and_non_dividing_slots() -> None:
    problems = template_problems(
        [
            template(0, "09:00", "17:00"),
            template(0, "10:00", "11:00"),
            template(0, "12:00", "13:00"),  # inside the first block, not the second
            template(1, "10:00", "09:00"),
            template(2, "09:00", "10:00", minutes=45),
            template(3, "09:00", "10:00", minutes=2),
            template(4, "09:00", "10:00"),
            template(5, "09:00", "10:00"),
        ]
    )
    assert sorted(problems) == [
        (1, "overlap"),
        (2, "overlap"),
        (3, "order"),
        (4, "not_divisible"),
        (5, "slot_length"),
    ]
