"""The reads `yunyi.matching` builds on: only verified doctors with complete profiles, a change
feed, availability for many doctors in a constant number of queries, and cards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.practitioners.conftest import CONTEXT, every_day
from yunyi.accounts.models import User
from yunyi.practitioners import hooks, selectors, services

pytestmark = pytest.mark.django_db


def test_changes_list_only_verified_complete_doctors(make_doctor: Callable[..., User]) -> None:
    verified = make_doctor(status="verified", languages=["zh", "en"], gender="female")
    make_doctor(status="pending")
    make_doctor(status="suspended")
    make_doctor(status="rejected")
    make_doctor(status=None)
    make_doctor(status="verified", lat=None, lon=None)  # no location: incomplete
    make_doctor(status="verified", fees={})  # no mode offered: incomplete

    changes = selectors.matching_changes_since(None)

    assert [d.doctor_id for d in changes.doctors] == [str(verified.pk)]
    doctor = changes.doctors[0]
    assert doctor.lat == pytest.approx(31.2304)
    assert doctor.lon == pytest.approx(121.4737)
    assert doctor.department == "cardiology"
    assert doctor.modes == frozenset({"video", "in_person"})
    assert doctor.service_radius_km == 10.0
    assert doctor.rating is None
    assert doctor.rating_count == 0
    assert doctor.languages == frozenset({"zh", "en"})
    assert doctor.gender == "female"
    assert doctor.daily_capacity == 20
    assert changes.removed_ids == []


def test_changes_since_report_suspension_as_removal(
    make_doctor: Callable[..., User], admin_user: User
) -> None:
    doctor = make_doctor(status="verified")
    first = selectors.matching_changes_since(None)
    licence = doctor.licences.get()
    services.licence_decide(
        reviewer=admin_user,
        licence_id=str(licence.id),
        decision="suspend",
        reason="complaint under investigation",
        context=CONTEXT,
    )

    later = selectors.matching_changes_since(first.as_of)

    assert later.doctors == []
    assert later.removed_ids == [str(doctor.pk)]
    assert later.as_of >= first.as_of


def test_availability_gives_first_free_slot_and_presence_in_three_queries(
    make_doctor: Callable[..., User],
) -> None:
    doctors = [make_doctor(templates=every_day(start="09:00", end="12:00")) for _ in range(5)]
    services.presence_set(user=doctors[0], status="online")
    start = timezone.now()
    end = start + timedelta(days=7)

    with CaptureQueriesContext(connection) as queries:
        answer = selectors.doctor_availability(
            [str(d.pk) for d in doctors] + ["not-a-uuid"], "video", start, end
        )

    assert len(queries.captured_queries) == 3
    assert set(answer) == {str(d.pk) for d in doctors}
    first = answer[str(doctors[0].pk)]
    assert first.online is True
    assert first.queue_length == 0
    assert first.next_slot_at is not None
    assert first.next_slot_at.tzinfo is not None
    assert start <= first.next_slot_at < end
    # 09:00-12:00 Shanghai is 01:00-04:00 UTC, on the half hour.
    assert 1 <= first.next_slot_at.astimezone(UTC).hour < 4
    assert first.next_slot_at.minute in (0, 30)
    assert answer[str(doctors[1].pk)].online is False


def test_availability_skips_modes_not_offered_and_in_person_is_never_online(
    make_doctor: Callable[..., User],
) -> None:
    doctor = make_doctor(fees={"video": 100, "in_person": 200})
    services.presence_set(user=doctor, status="online")
    now = timezone.now()

    assert selectors.doctor_availability([str(doctor.pk)], "home_visit", now, now) == {}
    in_person = selectors.doctor_availability([str(doctor.pk)], "in_person", now, now)
    assert in_person[str(doctor.pk)].online is False
    assert in_person[str(doctor.pk)].next_slot_at is None


def test_cards_give_public_summary_of_matchable_doctors_only(
    make_doctor: Callable[..., User],
) -> None:
    shown = make_doctor(hospital="瑞金医院", fees={"text": 1500})
    hidden = make_doctor(status="pending")

    cards = selectors.doctor_cards([str(shown.pk), str(hidden.pk), "garbage"])

    assert list(cards) == [str(shown.pk)]
    card = cards[str(shown.pk)]
    assert card.display_name == "测试医生"
    assert card.title == "attending"
    assert card.hospital == "瑞金医院"
    assert card.fees == {"text": 1500}
    assert card.photo_url is None
    assert card.languages == ["zh"]


def test_availability_window_in_the_past_has_no_slot(make_doctor: Callable[..., User]) -> None:
    doctor = make_doctor(templates=every_day())
    past = datetime(2020, 1, 1, tzinfo=UTC)

    answer = selectors.doctor_availability(
        [str(doctor.pk)], "video", past, past + timedelta(days=7)
    )

    assert answer[str(doctor.pk)].next_slot_at is None


def test_booked_slots_from_the_registered_reader_are_not_free(
    make_doctor: Callable[..., User],
) -> None:
    """The consultations app registers its readers; here a stand-in books the first free slot."""
    doctor = make_doctor(templates=every_day(start="09:00", end="10:00"))
    # From a midnight (UTC) ahead: the hour's first slot is free and the second follows it. From
    # "now", a run during the hour itself would find the second slot first and expect a third.
    start = (timezone.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=7)
    first = selectors.doctor_availability([str(doctor.pk)], "video", start, end)[str(doctor.pk)]
    assert first.next_slot_at is not None
    booked_at = first.next_slot_at

    def booked(ids: Sequence[str], s: datetime, e: datetime) -> dict[str, set[datetime]]:
        return {str(doctor.pk): {booked_at}}

    def queues(ids: Sequence[str]) -> dict[str, int]:
        return {str(doctor.pk): 5}

    services.presence_set(user=doctor, status="online", queue_room=5)
    hooks.register_booking_readers(booked=booked, queues=queues)
    try:
        later = selectors.doctor_availability([str(doctor.pk)], "video", start, end)[str(doctor.pk)]
    finally:
        hooks.register_booking_readers(booked=hooks._no_bookings, queues=hooks._no_queues)

    assert later.next_slot_at == booked_at + timedelta(minutes=30)
    assert later.queue_length == 5
    assert later.online is False  # the queue is full


def test_exception_days_have_no_free_slot(make_doctor: Callable[..., User]) -> None:
    doctor = make_doctor(templates=every_day())
    today = timezone.localdate()
    services.schedule_replace(
        user=doctor,
        templates=every_day(),
        exceptions=[
            services.ExceptionInput(
                kind="leave", start_date=today, end_date=today + timedelta(days=2)
            )
        ],
    )
    start = timezone.now()

    answer = selectors.doctor_availability(
        [str(doctor.pk)], "video", start, start + timedelta(days=7)
    )[str(doctor.pk)]

    assert answer.next_slot_at is not None
    assert timezone.localtime(answer.next_slot_at).date() == today + timedelta(days=3)


def test_cards_and_search_take_constant_queries(make_doctor: Callable[..., User]) -> None:
    ids = [str(make_doctor().pk) for _ in range(6)]

    with CaptureQueriesContext(connection) as cards:
        selectors.doctor_cards(ids)
    with CaptureQueriesContext(connection) as search:
        selectors.doctor_search(search=selectors.DoctorSearch(), limit=20, offset=0)

    assert len(cards.captured_queries) == 1
    assert len(search.captured_queries) == 2
