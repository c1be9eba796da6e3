"""Batch assignment: the min-cost flow equals the exact optimum, beats greedy, never overloads a
doctor, and rejects bad input."""

from __future__ import annotations

import numpy as np
import pytest

from yunyi.matching.assignment import (
    UNASSIGNED,
    AssignmentCosts,
    assign_exact,
    assign_greedy_nearest,
    assign_min_cost_flow,
    assign_min_cost_flow_complete,
    make_problem,
)
from yunyi.matching.errors import MatchingErrorCode, MatchingInputError

KM = 1 / 111.195  # degrees of latitude per km


def random_problem(seed: int, n: int, m: int, *, radius: float = 25.0, service: float = 20.0):
    rng = np.random.default_rng(seed)
    centres = np.array([[31.23, 121.47], [31.50, 121.20]])
    pick = rng.integers(0, 2, n)
    r_lat = centres[pick, 0] + rng.normal(0, 8 * KM, n)
    r_lon = centres[pick, 1] + rng.normal(0, 8 * KM, n)
    d_lat = 31.35 + rng.normal(0, 15 * KM, m)
    d_lon = 121.35 + rng.normal(0, 15 * KM, m)
    return make_problem(
        request_lat=r_lat,
        request_lon=r_lon,
        doctor_lat=d_lat,
        doctor_lon=d_lon,
        capacity=rng.integers(0, 2 * n // m + 2, m),
        service_minutes=rng.uniform(0, service, m),
        start_wait_minutes=rng.uniform(0, 60, m),
        max_travel_km=rng.uniform(radius / 2, radius, m),
    )


@pytest.mark.parametrize("seed", range(8))
def test_min_cost_flow_equals_the_exact_optimum_on_small_instances(seed):
    problem = random_problem(seed, n=40 + 5 * seed, m=6 + seed)
    exact = assign_exact(problem)
    flow = assign_min_cost_flow(problem)
    complete = assign_min_cost_flow_complete(problem)
    # Arc costs are rounded to 1/1000 of a unit, so totals may differ by that per request.
    assert flow.cost == pytest.approx(exact.cost, abs=problem.requests * 1e-3)
    assert complete.cost == pytest.approx(exact.cost, abs=problem.requests * 1e-3)
    assert flow.unassigned == exact.unassigned
    assert flow.over_capacity == complete.over_capacity == exact.over_capacity == 0
    assert (flow.loads <= problem.capacity).all()


@pytest.mark.parametrize("seed", range(4))
def test_min_cost_flow_never_costs_more_than_greedy(seed):
    problem = random_problem(100 + seed, n=300, m=30)
    greedy = assign_greedy_nearest(problem)
    flow = assign_min_cost_flow(problem)
    assert flow.cost <= greedy.cost + 1e-6
    assert greedy.over_capacity == flow.over_capacity == 0


def test_min_cost_flow_avoids_the_greedy_trap():
    # Doctors A (x=0) and B (x=10 km), one place each. The first request sits at 4.9 km and
    # greedily takes A; the second, at A's door, must then drive 10 km to B.
    problem = make_problem(
        request_lat=[31.0 + 4.9 * KM, 31.0],
        request_lon=[121.0, 121.0],
        doctor_lat=[31.0, 31.0 + 10 * KM],
        doctor_lon=[121.0, 121.0],
        capacity=[1, 1],
        service_minutes=0.0,
    )
    greedy = assign_greedy_nearest(problem)
    flow = assign_min_cost_flow(problem)
    assert greedy.doctor_of_request.tolist() == [0, 1]
    assert flow.doctor_of_request.tolist() == [1, 0]
    assert greedy.travel_km == pytest.approx(14.9, abs=0.01)
    assert flow.travel_km == pytest.approx(5.1, abs=0.01)


def test_waiting_spreads_requests_over_doctors():
    # Both doctors are near; the second place in A's queue waits 60 minutes (= 6 km at 0.1/min),
    # more than the 2 km detour to B.
    problem = make_problem(
        request_lat=[31.0, 31.0],
        request_lon=[121.0, 121.0],
        doctor_lat=[31.0, 31.0 + 2 * KM],
        doctor_lon=[121.0, 121.0],
        capacity=[5, 5],
        service_minutes=60.0,
    )
    flow = assign_min_cost_flow(problem)
    assert sorted(flow.doctor_of_request.tolist()) == [0, 1]
    assert flow.wait_minutes == 0.0
    assert flow.cost == pytest.approx(2.0, abs=0.01)


def test_over_demand_leaves_requests_unassigned_and_no_doctor_over_capacity():
    rng = np.random.default_rng(1)
    problem = make_problem(
        request_lat=31.2 + rng.normal(0, 0.05, 200),
        request_lon=121.4 + rng.normal(0, 0.05, 200),
        doctor_lat=31.2 + rng.normal(0, 0.05, 10),
        doctor_lon=121.4 + rng.normal(0, 0.05, 10),
        capacity=5,
    )
    for result in (assign_min_cost_flow(problem), assign_greedy_nearest(problem)):
        assert result.unassigned == 150
        assert result.loads.tolist() == [5] * 10
        assert result.over_capacity == 0
        assert result.cost >= 150 * AssignmentCosts().unassigned_penalty


def test_requests_beyond_every_radius_stay_unassigned():
    problem = make_problem(
        request_lat=[31.0, 39.9],
        request_lon=[121.0, 116.4],
        doctor_lat=[31.0],
        doctor_lon=[121.01],
        capacity=[10],
        max_travel_km=20.0,
    )
    for result in (
        assign_min_cost_flow(problem),
        assign_min_cost_flow_complete(problem),
        assign_greedy_nearest(problem),
        assign_exact(problem),
    ):
        assert result.doctor_of_request.tolist() == [0, UNASSIGNED]


def test_k_grows_when_the_nearest_doctors_are_full():
    # 20 full doctors sit next to the request; the one with room is the 21st nearest.
    problem = make_problem(
        request_lat=[31.0],
        request_lon=[121.0],
        doctor_lat=[31.0 + i * 0.1 * KM for i in range(20)] + [31.0 + 5 * KM],
        doctor_lon=[121.0] * 21,
        capacity=[0] * 20 + [1],
    )
    flow = assign_min_cost_flow(problem, neighbours=4)
    assert flow.doctor_of_request.tolist() == [20]
    assert flow.neighbours == 21


def test_empty_instances_have_empty_plans():
    empty = make_problem(
        request_lat=[], request_lon=[], doctor_lat=[31.0], doctor_lon=[121.0], capacity=[3]
    )
    assert assign_min_cost_flow(empty).cost == 0.0
    no_doctors = make_problem(
        request_lat=[31.0], request_lon=[121.0], doctor_lat=[], doctor_lon=[], capacity=[]
    )
    result = assign_min_cost_flow(no_doctors)
    assert result.doctor_of_request.tolist() == [UNASSIGNED]
    assert result.unassigned == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"capacity": [1, -1]}, MatchingErrorCode.INVALID_CAPACITY),
        ({"capacity": [1.5, 2]}, MatchingErrorCode.INVALID_CAPACITY),
        ({"capacity": ["two", "three"]}, MatchingErrorCode.INVALID_CAPACITY),
        ({"capacity": [1, 2, 3]}, MatchingErrorCode.SHAPE_MISMATCH),
        ({"request_lat": [95.0]}, MatchingErrorCode.INVALID_COORDINATES),
        ({"doctor_lon": [121.0, float("nan")]}, MatchingErrorCode.INVALID_COORDINATES),
        ({"doctor_lon": [121.0]}, MatchingErrorCode.SHAPE_MISMATCH),
        ({"service_minutes": -5.0}, MatchingErrorCode.INVALID_PARAMETER),
        ({"max_travel_km": [10.0, 20.0, 30.0]}, MatchingErrorCode.SHAPE_MISMATCH),
    ],
)
def test_bad_problem_raises_its_error_code(changes, code):
    arguments = {
        "request_lat": [31.0],
        "request_lon": [121.0],
        "doctor_lat": [31.0, 31.1],
        "doctor_lon": [121.0, 121.0],
        "capacity": [1, 2],
    }
    with pytest.raises(MatchingInputError) as caught:
        make_problem(**(arguments | changes))
    assert caught.value.code is code
