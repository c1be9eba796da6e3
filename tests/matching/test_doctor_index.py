"""The doctor index answers exactly like brute force, sees every update at once, and never
returns an unverified or suspended doctor."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yunyi.matching.doctor_index import ConsultMode, DoctorIndex, IndexedDoctor
from yunyi.matching.errors import MatchingErrorCode, MatchingInputError
from yunyi.matching.geo import haversine_km_array

DEPARTMENTS = ("cardiology", "pediatrics")
MODES = (ConsultMode.VIDEO, ConsultMode.HOME_VISIT)


def doctor(doctor_id: str, lat: float, lon: float, **changes) -> IndexedDoctor:
    base = IndexedDoctor(
        doctor_id=doctor_id,
        lat=lat,
        lon=lon,
        department="cardiology",
        modes=frozenset({ConsultMode.VIDEO}),
        verified=True,
        service_radius_km=10.0,
    )
    return replace(base, **changes)


def random_doctors(rng: np.random.Generator, n: int, prefix: str = "d") -> list[IndexedDoctor]:
    lat = 31.2 + rng.normal(0, 0.2, n)
    lon = 121.4 + rng.normal(0, 0.2, n)
    return [
        doctor(
            f"{prefix}{i}",
            float(lat[i]),
            float(lon[i]),
            department=DEPARTMENTS[int(rng.integers(2))],
            modes=frozenset(m for m in MODES if rng.random() < 0.7) or frozenset({MODES[0]}),
            verified=bool(rng.random() < 0.8),
        )
        for i in range(n)
    ]


def brute_force(live: dict[str, IndexedDoctor], lat, lon, department, mode, k):
    eligible = [
        d for d in live.values() if d.verified and d.department == department and mode in d.modes
    ]
    if not eligible:
        return []
    dist = haversine_km_array(lat, lon, [d.lat for d in eligible], [d.lon for d in eligible])
    order = np.argsort(dist, kind="stable")[:k]
    return [(eligible[i].doctor_id, float(dist[i])) for i in order]


def assert_same_neighbours(got, expected):
    assert len(got) == len(expected)
    assert np.allclose([n.distance_km for n in got], [d for _, d in expected], atol=1e-6)
    assert {n.doctor.doctor_id for n in got} == {i for i, _ in expected}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 300),
    k=st.integers(1, 25),
    updates=st.integers(0, 60),
    threshold=st.sampled_from([0, 4, 256]),
)
def test_nearest_equals_brute_force_after_random_updates(seed, n, k, updates, threshold):
    rng = np.random.default_rng(seed)
    doctors = random_doctors(rng, n)
    index = DoctorIndex.build(doctors, compact_threshold=threshold)
    live = {d.doctor_id: d for d in doctors if d.verified}
    for step in range(updates):
        action = rng.random()
        if action < 0.4 and live:  # move an existing doctor, maybe to another partition
            old = live[str(rng.choice(sorted(live)))]
            new = replace(
                old,
                lat=old.lat + float(rng.normal(0, 0.1)),
                department=DEPARTMENTS[int(rng.integers(2))],
            )
        elif action < 0.6 and live:  # suspend one
            new = replace(live[str(rng.choice(sorted(live)))], verified=False)
        elif action < 0.7 and live:
            gone = str(rng.choice(sorted(live)))
            index.remove(gone)
            del live[gone]
            continue
        else:
            new = random_doctors(rng, 1, prefix=f"new{step}-")[0]
        index.upsert(new)
        if new.verified:
            live[new.doctor_id] = new
        else:
            live.pop(new.doctor_id, None)
    lat, lon = 31.2 + float(rng.normal(0, 0.2)), 121.4 + float(rng.normal(0, 0.2))
    assert len(index) == len(live)
    for department in DEPARTMENTS:
        for mode in MODES:
            got = index.nearest(lat=lat, lon=lon, k=k, department=department, mode=mode)
            assert_same_neighbours(got, brute_force(live, lat, lon, department, mode, k))
            within = index.within_radius(
                lat=lat, lon=lon, radius_km=15.0, department=department, mode=mode
            )
            everyone = brute_force(live, lat, lon, department, mode, len(live))
            assert_same_neighbours(within, [(i, d) for i, d in everyone if d <= 15.0])


def test_iter_nearest_yields_every_doctor_once_nearest_batches_first():
    rng = np.random.default_rng(3)
    doctors = [replace(d, verified=True) for d in random_doctors(rng, 500)]
    index = DoctorIndex.build(doctors)
    batches = list(
        index.iter_nearest(
            lat=31.2, lon=121.4, department="cardiology", mode=MODES[0], first_batch=8
        )
    )
    ids = [n.doctor.doctor_id for batch in batches for n in batch]
    expected = brute_force(
        {d.doctor_id: d for d in doctors}, 31.2, 121.4, "cardiology", MODES[0], 10_000
    )
    assert len(ids) == len(set(ids)) == len(expected)
    assert [len(b) for b in batches][:3] == [8, 24, 96]
    assert max(n.distance_km for n in batches[0]) <= min(n.distance_km for n in batches[1])


def test_moved_doctor_is_found_at_its_new_place_before_any_compaction():
    index = DoctorIndex.build([doctor("a", 31.2, 121.4), doctor("b", 31.3, 121.5)])
    index.upsert(doctor("a", 39.9, 116.4))
    assert index.stats().pending == 2  # a's dead tree row + its delta entry
    assert index.stats().compactions == 0
    near_beijing = index.nearest(lat=39.9, lon=116.4, k=1, department="cardiology", mode="video")
    assert [n.doctor.doctor_id for n in near_beijing] == ["a"]
    assert near_beijing[0].distance_km == pytest.approx(0.0, abs=1e-9)
    near_shanghai = index.nearest(lat=31.2, lon=121.4, k=2, department="cardiology", mode="video")
    assert [n.doctor.doctor_id for n in near_shanghai] == ["b", "a"]


def test_compaction_rebuilds_only_past_the_threshold_and_keeps_answers():
    index = DoctorIndex.build(
        [doctor(f"d{i}", 31.0 + i / 100, 121.0) for i in range(10)], compact_threshold=3
    )
    index.upsert(doctor("n1", 30.0, 121.0))
    index.upsert(doctor("n2", 30.01, 121.0))
    assert index.stats().compactions == 0
    index.upsert(doctor("n3", 30.02, 121.0))
    index.upsert(doctor("n4", 30.03, 121.0))
    assert index.stats().compactions == 1
    assert index.stats().pending == 0
    got = index.nearest(lat=30.0, lon=121.0, k=4, department="cardiology", mode="video")
    assert [n.doctor.doctor_id for n in got] == ["n1", "n2", "n3", "n4"]


def test_attribute_only_change_replaces_the_record_without_touching_trees():
    index = DoctorIndex.build([doctor("a", 31.2, 121.4, rating=4.0, rating_count=3)])
    index.upsert(doctor("a", 31.2, 121.4, rating=4.9, rating_count=4))
    assert index.stats().pending == 0
    [hit] = index.nearest(lat=31.2, lon=121.4, k=1, department="cardiology", mode="video")
    assert hit.doctor.rating == 4.9


def test_unverified_and_suspended_doctors_are_never_returned():
    index = DoctorIndex.build(
        [doctor("ok", 31.2, 121.4), doctor("pending", 31.2, 121.4, verified=False)]
    )
    assert "pending" not in index
    index.upsert(doctor("ok2", 31.21, 121.4))
    index.upsert(doctor("ok", 31.2, 121.4, verified=False))  # suspended
    found = index.nearest(lat=31.2, lon=121.4, k=10)
    assert [n.doctor.doctor_id for n in found] == ["ok2"]
    assert index.within_radius(lat=31.2, lon=121.4, radius_km=100.0) == found
    assert len(index) == 1


def test_filters_select_department_and_mode():
    index = DoctorIndex.build(
        [
            doctor("cardio-video", 31.2, 121.4),
            doctor("cardio-home", 31.2, 121.41, modes=frozenset({ConsultMode.HOME_VISIT})),
            doctor("peds-video", 31.2, 121.42, department="pediatrics"),
        ]
    )
    by = {
        (dept, mode): [
            n.doctor.doctor_id
            for n in index.nearest(lat=31.2, lon=121.4, k=5, department=dept, mode=mode)
        ]
        for dept in ("cardiology", "pediatrics", None)
        for mode in ("video", "home_visit", None)
    }
    assert by[("cardiology", "video")] == ["cardio-video"]
    assert by[("cardiology", "home_visit")] == ["cardio-home"]
    assert by[("pediatrics", "home_visit")] == []
    assert by[("cardiology", None)] == ["cardio-video", "cardio-home"]
    assert by[(None, "video")] == ["cardio-video", "peds-video"]
    assert by[(None, None)] == ["cardio-video", "cardio-home", "peds-video"]
    assert index.nearest(lat=31.2, lon=121.4, k=5, department="oncology", mode="video") == []


def test_nearest_with_a_predicate_widens_until_enough_pass():
    doctors = [
        doctor(f"d{i:02d}", 31.2 + i / 1000, 121.4, gender="female" if i % 10 == 9 else "male")
        for i in range(60)
    ]
    index = DoctorIndex.build(doctors)
    got = index.nearest(lat=31.2, lon=121.4, k=3, where=lambda d: d.gender == "female")
    assert [n.doctor.doctor_id for n in got] == ["d09", "d19", "d29"]


def test_bad_doctor_records_are_rejected_and_change_nothing():
    index = DoctorIndex.build([doctor("a", 31.2, 121.4)])
    with pytest.raises(MatchingInputError) as caught:
        index.upsert(doctor("a", 95.0, 121.4))
    assert caught.value.code is MatchingErrorCode.INVALID_COORDINATES
    with pytest.raises(MatchingInputError) as caught:
        index.upsert(doctor("b", 31.2, 121.4, modes=frozenset({"telepathy"})))
    assert caught.value.code is MatchingErrorCode.UNKNOWN_MODE
    with pytest.raises(MatchingInputError) as caught:
        index.upsert(doctor("b", 31.2, 121.4, service_radius_km=float("nan")))
    assert caught.value.code is MatchingErrorCode.RADIUS_OUT_OF_RANGE
    assert len(index) == 1
    assert index.get("a") == doctor("a", 31.2, 121.4)
    assert index.stats().pending == 0
    with pytest.raises(MatchingInputError) as caught:
        index.within_radius(lat=31.2, lon=121.4, radius_km=-1.0)
    assert caught.value.code is MatchingErrorCode.RADIUS_OUT_OF_RANGE


def test_empty_index_answers_empty():
    index = DoctorIndex.build([])
    assert index.nearest(lat=31.2, lon=121.4, k=10) == []
    assert index.within_radius(lat=31.2, lon=121.4, radius_km=10.0) == []
    index.remove("nobody")
    assert len(index) == 0
