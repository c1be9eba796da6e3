"""Recommendations: filters, the documented score, structured reasons, explained empty answers,
and a typed error for each kind of bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from yunyi.matching.doctor_index import ConsultMode, DoctorIndex, IndexedDoctor
from yunyi.matching.errors import MatchingErrorCode, MatchingInputError
from yunyi.matching.ranking import (
    Availability,
    EmptyReason,
    Preferences,
    RankingWeights,
    RecommendationQuery,
    SearchLimits,
    TimeWindow,
    recommend_doctors,
)

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
WINDOW = TimeWindow(NOW, NOW + timedelta(hours=8))
PATIENT = (31.2304, 121.4737)


def doctor(doctor_id: str, north_km: float, **changes) -> IndexedDoctor:
    base = IndexedDoctor(
        doctor_id=doctor_id,
        lat=PATIENT[0] + north_km / 111.195,
        lon=PATIENT[1],
        department="cardiology",
        modes=frozenset({ConsultMode.VIDEO, ConsultMode.HOME_VISIT}),
        verified=True,
        service_radius_km=10.0,
        rating=4.5,
        rating_count=100,
    )
    return replace(base, **changes)


def slots(mapping: dict[str, Availability]):
    calls: list[list[str]] = []

    def lookup(ids, window):
        calls.append(list(ids))
        return {i: mapping[i] for i in ids if i in mapping}

    lookup.calls = calls  # type: ignore[attr-defined]
    return lookup


def query(**changes) -> RecommendationQuery:
    base = RecommendationQuery(
        lat=PATIENT[0], lon=PATIENT[1], department="cardiology", mode="home_visit", window=WINDOW
    )
    return replace(base, **changes)


def test_results_carry_structured_reasons():
    index = DoctorIndex.build([doctor("a", 3.2), doctor("b", 1.0, rating_count=0, rating=None)])
    lookup = slots(
        {
            "a": Availability(next_slot_at=NOW + timedelta(minutes=30)),
            "b": Availability(next_slot_at=NOW + timedelta(hours=6)),
        }
    )
    result = recommend_doctors(
        index=index,
        query=query(preferences=Preferences(previous_doctor_ids=frozenset({"a"}))),
        availability=lookup,
        now=NOW,
    )
    assert [r.doctor_id for r in result.items] == ["a", "b"]
    assert result.empty_reason is None
    assert result.exhaustive is True
    assert [reason.as_dict() for reason in result.items[0].reasons] == [
        {"kind": "distance_km", "value": 3.2, "contribution": 0.1582},
        {"kind": "next_slot", "value": "2026-03-02T06:30:00+00:00", "contribution": 0.2336},
        {"kind": "saw_you_before", "value": True, "contribution": 0.15},
        {"kind": "rating", "value": 4.5, "contribution": 0.1304, "count": 100},
    ]
    first = result.items[0]
    assert first.score == pytest.approx(sum(r.contribution for r in first.reasons), abs=1e-3)
    assert first.expected_wait_minutes == 30.0
    # Unrated: the prior mean (4.0) scores the rating, and no "rating" reason is claimed.
    assert [r.kind.value for r in result.items[1].reasons] == ["distance_km", "next_slot"]


def test_language_and_gender_preferences_add_their_weight():
    index = DoctorIndex.build(
        [
            doctor("zh", 1.0, gender="male"),
            doctor("en", 1.0, languages=frozenset({"zh", "en"}), gender="female"),
        ]
    )
    free = Availability(next_slot_at=NOW + timedelta(hours=1))
    result = recommend_doctors(
        index=index,
        query=query(preferences=Preferences(languages=frozenset({"en"}), gender="female")),
        availability=slots({"zh": free, "en": free}),
        now=NOW,
    )
    assert [r.doctor_id for r in result.items] == ["en", "zh"]
    assert result.items[0].score - result.items[1].score == pytest.approx(0.10)
    assert [r.as_dict() for r in result.items[0].reasons][-2:] == [
        {"kind": "speaks_language", "value": "en", "contribution": 0.05},
        {"kind": "gender_match", "value": "female", "contribution": 0.05},
    ]


def test_online_doctor_with_queue_room_counts_as_available_now():
    index = DoctorIndex.build([doctor("online", 2.0)])
    result = recommend_doctors(
        index=index,
        query=query(mode="video"),
        availability=slots({"online": Availability(online=True, expected_wait_minutes=12.4)}),
        now=NOW,
    )
    [item] = result.items
    assert item.next_slot_at is None
    assert item.reasons[0].as_dict() == {"kind": "online_now", "value": 12, "contribution": 0.2705}
    # Distance barely matters for a video consultation, so it is said last.
    assert item.reasons[-1].kind.value == "distance_km"


def test_home_visit_excludes_doctors_whose_service_radius_does_not_reach_the_patient():
    index = DoctorIndex.build(
        [
            doctor("near", 4.0),
            doctor("far-radius", 12.0, service_radius_km=15.0),
            doctor("short-radius", 6.0, service_radius_km=5.0),
        ]
    )
    free = {
        i: Availability(next_slot_at=NOW + timedelta(hours=1))
        for i in ("near", "far-radius", "short-radius")
    }
    result = recommend_doctors(index=index, query=query(), availability=slots(free), now=NOW)
    assert [r.doctor_id for r in result.items] == ["near", "far-radius"]
    assert result.filtered == {"out_of_radius": 1, "unavailable": 0}
    capped = recommend_doctors(
        index=index, query=query(radius_km=10.0), availability=slots(free), now=NOW
    )
    assert [r.doctor_id for r in capped.items] == ["near"]


def test_video_ignores_the_service_radius():
    index = DoctorIndex.build([doctor("far", 300.0, service_radius_km=1.0)])
    free = {"far": Availability(next_slot_at=NOW + timedelta(hours=1))}
    result = recommend_doctors(
        index=index, query=query(mode="video"), availability=slots(free), now=NOW
    )
    assert [r.doctor_id for r in result.items] == ["far"]


def test_doctors_without_a_slot_in_the_window_are_filtered():
    index = DoctorIndex.build([doctor("busy", 1.0), doctor("later", 2.0), doctor("free", 3.0)])
    lookup = slots(
        {
            "later": Availability(next_slot_at=WINDOW.end + timedelta(minutes=1)),
            "free": Availability(next_slot_at=NOW + timedelta(hours=2)),
        }
    )
    result = recommend_doctors(index=index, query=query(), availability=lookup, now=NOW)
    assert [r.doctor_id for r in result.items] == ["free"]
    assert result.filtered == {"out_of_radius": 0, "unavailable": 2}
    assert lookup.calls == [["busy", "later", "free"]]  # one lookup per candidate batch


def test_previous_doctor_far_away_is_still_considered_for_video():
    far = doctor("seen-before", 900.0)
    near = [doctor(f"n{i:03d}", 0.5 + i / 100) for i in range(200)]
    index = DoctorIndex.build([far, *near])
    free = {d.doctor_id: Availability(next_slot_at=NOW + timedelta(hours=1)) for d in [far, *near]}
    result = recommend_doctors(
        index=index,
        query=query(
            mode="video",
            limit=3,
            preferences=Preferences(previous_doctor_ids=frozenset({"seen-before"})),
        ),
        availability=slots(free),
        now=NOW,
        limits=SearchLimits(max_candidates=50, first_batch=16),
    )
    assert result.items[0].doctor_id == "seen-before"
    kinds = [reason.kind.value for reason in result.items[0].reasons]
    assert kinds[:2] == ["next_slot", "saw_you_before"] and kinds[-1] == "distance_km"


def test_unverified_doctor_is_never_recommended():
    index = DoctorIndex.build([doctor("ok", 2.0), doctor("pending", 1.0, verified=False)])
    index.upsert(doctor("suspended", 0.5, verified=False))
    free = {
        i: Availability(next_slot_at=NOW + timedelta(hours=1))
        for i in ("ok", "pending", "suspended")
    }
    result = recommend_doctors(
        index=index,
        query=query(preferences=Preferences(previous_doctor_ids=frozenset({"pending"}))),
        availability=slots(free),
        now=NOW,
    )
    assert [r.doctor_id for r in result.items] == ["ok"]


@pytest.mark.parametrize(
    ("doctors", "free", "reason"),
    [
        ([], {}, EmptyReason.NO_DOCTORS),
        (
            [doctor("video-only", 1.0, modes=frozenset({ConsultMode.VIDEO}))],
            {},
            EmptyReason.NO_DOCTORS,
        ),
        (
            [doctor("far", 30.0)],
            {"far": Availability(next_slot_at=NOW + timedelta(hours=1))},
            EmptyReason.NONE_IN_RADIUS,
        ),
        ([doctor("busy", 1.0)], {}, EmptyReason.NONE_AVAILABLE),
    ],
)
def test_no_match_is_an_explained_empty_answer(doctors, free, reason):
    result = recommend_doctors(
        index=DoctorIndex.build(doctors), query=query(), availability=slots(free), now=NOW
    )
    assert result.items == ()
    assert result.empty_reason is reason


def test_pruned_search_equals_scoring_every_doctor_and_examines_few():
    rng = np.random.default_rng(5)
    doctors = [
        doctor(
            f"d{i:04d}",
            float(rng.normal(0, 15)),
            lon=PATIENT[1] + float(rng.normal(0, 0.15)),
            modes=frozenset({ConsultMode.VIDEO, ConsultMode.HOME_VISIT, ConsultMode.IN_PERSON}),
            service_radius_km=float(rng.uniform(5, 30)),
            rating=float(rng.uniform(3.5, 5.0)),
            rating_count=int(rng.integers(0, 300)),
        )
        for i in range(3000)
    ]
    index = DoctorIndex.build(doctors)
    free = {
        d.doctor_id: Availability(next_slot_at=NOW + timedelta(minutes=int(rng.integers(0, 480))))
        for d in doctors
        if rng.random() < 0.7
    }
    for mode in ("home_visit", "in_person"):
        q = query(mode=mode, lat=31.25, lon=121.45)
        fast = recommend_doctors(index=index, query=q, availability=slots(free), now=NOW)
        everyone = recommend_doctors(
            index=index,
            query=q,
            availability=slots(free),
            now=NOW,
            limits=SearchLimits(first_batch=10_000, max_candidates=10_000),
        )
        assert [r.doctor_id for r in fast.items] == [r.doctor_id for r in everyone.items]
        assert len(fast.items) == 10
        assert fast.exhaustive is True
        assert everyone.examined == 3000
        assert fast.examined < 3000 / 4


def test_weights_reject_negative_or_non_finite_values():
    with pytest.raises(MatchingInputError) as caught:
        RankingWeights(distance=-0.1)
    assert caught.value.code is MatchingErrorCode.INVALID_WEIGHTS
    assert caught.value.details == {"field": "distance"}
    with pytest.raises(MatchingInputError) as caught:
        RankingWeights(distance_scale_km=0.0)
    assert caught.value.details == {"field": "distance_scale_km"}


NAIVE = datetime(2026, 3, 2, 14, 0)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"lat": float("nan")}, MatchingErrorCode.INVALID_COORDINATES),
        ({"lat": 91.0}, MatchingErrorCode.INVALID_COORDINATES),
        ({"lon": "121.47"}, MatchingErrorCode.INVALID_COORDINATES),
        ({"department": "astrology"}, MatchingErrorCode.UNKNOWN_DEPARTMENT),
        ({"mode": "carrier_pigeon"}, MatchingErrorCode.UNKNOWN_MODE),
        (
            {"window": TimeWindow(NOW + timedelta(hours=2), NOW + timedelta(hours=1))},
            MatchingErrorCode.INVALID_TIME_WINDOW,
        ),
        ({"window": TimeWindow(NOW, NOW)}, MatchingErrorCode.INVALID_TIME_WINDOW),
        (
            {"window": TimeWindow(NOW - timedelta(hours=3), NOW - timedelta(hours=1))},
            MatchingErrorCode.TIME_WINDOW_IN_PAST,
        ),
        (
            {"window": TimeWindow(NAIVE, NAIVE + timedelta(hours=1))},
            MatchingErrorCode.INVALID_TIME_WINDOW,
        ),
        (
            {"window": TimeWindow(NOW, NOW + timedelta(days=15))},
            MatchingErrorCode.INVALID_TIME_WINDOW,
        ),
        ({"radius_km": 50.5}, MatchingErrorCode.RADIUS_OUT_OF_RANGE),
        ({"radius_km": 0.0}, MatchingErrorCode.RADIUS_OUT_OF_RANGE),
        ({"radius_km": float("inf")}, MatchingErrorCode.RADIUS_OUT_OF_RANGE),
        ({"limit": 0}, MatchingErrorCode.LIMIT_OUT_OF_RANGE),
        ({"limit": 51}, MatchingErrorCode.LIMIT_OUT_OF_RANGE),
        ({"limit": True}, MatchingErrorCode.LIMIT_OUT_OF_RANGE),
    ],
)
def test_bad_query_raises_its_error_code_and_looks_nothing_up(changes, code):
    lookup = slots({"a": Availability(next_slot_at=NOW + timedelta(hours=1))})
    with pytest.raises(MatchingInputError) as caught:
        recommend_doctors(
            index=DoctorIndex.build([doctor("a", 1.0)]),
            query=query(**changes),
            availability=lookup,
            now=NOW,
            known_departments={"cardiology", "pediatrics"},
        )
    assert caught.value.code is code
    assert lookup.calls == []


def test_window_that_started_in_the_past_but_is_still_open_is_accepted():
    index = DoctorIndex.build([doctor("a", 1.0)])
    result = recommend_doctors(
        index=index,
        query=query(window=TimeWindow(NOW - timedelta(hours=1), NOW + timedelta(hours=1))),
        availability=slots({"a": Availability(next_slot_at=NOW + timedelta(minutes=10))}),
        now=NOW,
    )
    assert [r.doctor_id for r in result.items] == ["a"]


def soonest_from(doctors, free):
    """What the Django layer's indexed query answers: free doctors of a (department, mode),
    ordered by wait, `limit` rows from `offset`."""
    calls: list[tuple[int, int]] = []

    def soonest(department, mode, window, offset, limit):
        calls.append((offset, limit))
        rows = sorted(
            (free[d.doctor_id].next_slot_at, d.doctor_id)
            for d in doctors
            if d.department == department and mode in d.modes and d.doctor_id in free
        )
        return [(i, free[i]) for _, i in rows[offset : offset + limit]]

    soonest.calls = calls  # type: ignore[attr-defined]
    return soonest


def test_video_search_soonest_first_equals_scoring_every_doctor():
    rng = np.random.default_rng(8)
    doctors = [
        doctor(
            f"v{i:04d}",
            float(rng.normal(0, 500)),
            verified=bool(rng.random() < 0.9),
            rating=float(rng.uniform(3.5, 5.0)),
            rating_count=int(rng.integers(0, 300)),
        )
        for i in range(3000)
    ]
    index = DoctorIndex.build(doctors)
    free = {
        d.doctor_id: Availability(next_slot_at=NOW + timedelta(minutes=int(rng.integers(0, 480))))
        for d in doctors
        if rng.random() < 0.7
    }
    q = query(mode="video")
    soonest = soonest_from(doctors, free)
    fast = recommend_doctors(
        index=index, query=q, availability=slots(free), soonest=soonest, now=NOW
    )
    everyone = recommend_doctors(
        index=index,
        query=q,
        availability=slots(free),
        now=NOW,
        limits=SearchLimits(first_batch=10_000, max_candidates=10_000),
    )
    assert [r.doctor_id for r in fast.items] == [r.doctor_id for r in everyone.items]
    assert len(fast.items) == 10
    assert fast.exhaustive is True
    assert fast.examined < 500
    assert soonest.calls[0] == (0, 64)
    assert all(d.verified for d in (index.get(r.doctor_id) for r in fast.items))
