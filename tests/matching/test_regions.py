"""Service regions: K by silhouette, per-region figures, depots, K validation, and the naive
k-means matching it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from yunyi.matching.assignment import assign_min_cost_flow, make_problem
from yunyi.matching.errors import MatchingErrorCode, MatchingInputError
from yunyi.matching.geo import haversine_km_array
from yunyi.matching.regions import naive_kmeans_matching, service_regions
from yunyi.matching.synthetic import CITIES

FOUR = [c for c in CITIES if c.name_en in ("Beijing", "Shanghai", "Chengdu", "Guangzhou")]
KM = 1 / 111.195


def blobs(per_city: int, seed: int, sigma_km: float = 10.0):
    rng = np.random.default_rng(seed)
    lat = np.concatenate([c.lat + rng.normal(0, sigma_km * KM, per_city) for c in FOUR])
    lon = np.concatenate([c.lon + rng.normal(0, sigma_km * KM, per_city) for c in FOUR])
    return lat, lon


def test_k_is_chosen_by_silhouette_on_well_separated_cities():
    lat, lon = blobs(300, seed=1)
    doc_lat, doc_lon = blobs(10, seed=2)
    result = service_regions(
        demand_lat=lat, demand_lon=lon, doctor_lat=doc_lat, doctor_lon=doc_lon, k_range=(2, 7)
    )
    assert result.k == 4
    assert result.chosen_by == "silhouette"
    assert sorted(result.silhouette_by_k) == [2, 3, 4, 5, 6, 7]
    assert max(result.silhouette_by_k, key=result.silhouette_by_k.get) == 4
    assert result.silhouette > 0.9
    assert sorted(r.demand for r in result.regions) == [300, 300, 300, 300]
    assert sorted(r.doctors for r in result.regions) == [10, 10, 10, 10]
    assert sorted(r.demand_per_doctor for r in result.regions) == [30.0] * 4
    for region in result.regions:
        centre_to_city = haversine_km_array(
            region.centroid_lat, region.centroid_lon, [c.lat for c in FOUR], [c.lon for c in FOUR]
        )
        assert centre_to_city.min() < 2.0
        assert (
            haversine_km_array(
                region.depot_lat, region.depot_lon, region.centroid_lat, region.centroid_lon
            )
            < 5.0
        )
        assert 10.0 < region.radius_km < 25.0


def test_operator_k_is_used_as_given_and_depot_is_a_demand_point():
    lat, lon = blobs(100, seed=3)
    result = service_regions(demand_lat=lat, demand_lon=lon, k=6)
    assert result.k == 6
    assert result.chosen_by == "operator"
    assert result.silhouette_by_k == {}
    assert sum(r.demand for r in result.regions) == 400
    assert all(r.doctors == 0 and r.demand_per_doctor is None for r in result.regions)
    demand = set(zip(np.round(lat, 9), np.round(lon, 9), strict=True))
    for region in result.regions:
        assert (round(region.depot_lat, 9), round(region.depot_lon, 9)) in demand
    assert np.bincount(result.labels, minlength=6).tolist() == [r.demand for r in result.regions]


@pytest.mark.parametrize(
    ("arguments", "details_max"),
    [
        ({"k": 1}, 50),
        ({"k": 51}, 50),
        ({"k": True}, 50),
        ({"k": 2.5}, 50),
        ({"k_range": (0, 5)}, 50),
        ({"k_range": (2, 80)}, 50),
    ],
)
def test_k_out_of_range_is_rejected(arguments, details_max):
    lat, lon = blobs(30, seed=4)
    with pytest.raises(MatchingInputError) as caught:
        service_regions(demand_lat=lat, demand_lon=lon, **arguments)
    assert caught.value.code is MatchingErrorCode.K_OUT_OF_RANGE
    assert caught.value.details["max"] == details_max


def test_k_beyond_the_distinct_demand_points_is_rejected():
    with pytest.raises(MatchingInputError) as caught:
        service_regions(demand_lat=[31.0, 31.0, 39.9], demand_lon=[121.0, 121.0, 116.4], k=3)
    assert caught.value.code is MatchingErrorCode.K_OUT_OF_RANGE
    assert caught.value.details == {"min": 2, "max": 2, "distinct_points": 2}
    with pytest.raises(MatchingInputError) as caught:
        service_regions(demand_lat=[], demand_lon=[])
    assert caught.value.code is MatchingErrorCode.K_OUT_OF_RANGE
    with pytest.raises(MatchingInputError) as caught:
        service_regions(
            demand_lat=[10.0, 20.0, 30.0, 40.0, 50.0], demand_lon=[0.0] * 5, k_range=(4, 3)
        )
    assert caught.value.code is MatchingErrorCode.K_OUT_OF_RANGE


def test_bad_demand_coordinates_are_rejected():
    with pytest.raises(MatchingInputError) as caught:
        service_regions(demand_lat=[31.0, 200.0], demand_lon=[121.0, 121.0], k=2)
    assert caught.value.code is MatchingErrorCode.INVALID_COORDINATES


def test_naive_kmeans_overloads_doctors_where_the_flow_does_not():
    # Shanghai has 300 patients and 3 doctors with 40 places; Chengdu 20 patients, 3 doctors.
    rng = np.random.default_rng(6)
    sh, cd = FOUR[1], FOUR[2]
    problem = make_problem(
        request_lat=np.concatenate(
            [sh.lat + rng.normal(0, 8 * KM, 300), cd.lat + rng.normal(0, 8 * KM, 20)]
        ),
        request_lon=np.concatenate(
            [sh.lon + rng.normal(0, 8 * KM, 300), cd.lon + rng.normal(0, 8 * KM, 20)]
        ),
        doctor_lat=[sh.lat, sh.lat + 0.1, sh.lat - 0.1, cd.lat, cd.lat + 0.1, cd.lat - 0.1],
        doctor_lon=[sh.lon, sh.lon, sh.lon, cd.lon, cd.lon, cd.lon],
        capacity=40,
        max_travel_km=30.0,
    )
    naive = naive_kmeans_matching(problem)
    flow = assign_min_cost_flow(problem)
    assert naive.result.over_capacity == 3
    assert naive.result.unassigned == 0
    assert int(naive.result.loads[:3].sum()) == 300
    assert naive.centre_drift_km.max() > 1.0
    assert flow.over_capacity == 0
    assert int(flow.loads[:3].sum()) == 120
    assert int(flow.loads[3:].sum()) == 20
    assert flow.unassigned == 180
