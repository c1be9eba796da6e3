"""Synthetic data is seeded and spread around the listed cities by population."""

from __future__ import annotations

import numpy as np

from yunyi.matching.doctor_index import ConsultMode
from yunyi.matching.geo import haversine_km_array
from yunyi.matching.synthetic import CITIES, synthetic_doctors, synthetic_points


def test_points_are_seeded_and_stay_near_their_city():
    lat, lon, city = synthetic_points(20_000, seed=9)
    again = synthetic_points(20_000, seed=9)
    assert np.array_equal(lat, again[0]) and np.array_equal(lon, again[1])
    centre_lat = np.array([c.lat for c in CITIES])[city]
    centre_lon = np.array([c.lon for c in CITIES])[city]
    distance = haversine_km_array(lat, lon, centre_lat, centre_lon)
    assert np.median(distance) < 30.0
    assert distance.max() < 400.0


def test_points_follow_population():
    _, _, city = synthetic_points(100_000, seed=1)
    share = np.bincount(city, minlength=len(CITIES)) / 100_000
    population = np.array([c.population_m for c in CITIES])
    assert np.allclose(share, population / population.sum(), atol=0.004)
    assert [c.name_en for c in CITIES[:2]] == ["Shanghai", "Beijing"]
    assert len(CITIES) >= 30


def test_doctors_are_varied_and_mostly_verified():
    doctors = synthetic_doctors(2000, seed=4)
    assert [d.doctor_id for d in doctors[:2]] == ["d000000", "d000001"]
    assert 0.87 < np.mean([d.verified for d in doctors]) < 0.93
    assert all(d.modes and d.modes <= set(ConsultMode) for d in doctors)
    assert all(5.0 <= d.service_radius_km <= 30.0 for d in doctors)
    assert len({d.department for d in doctors}) == 20
    assert synthetic_doctors(2000, seed=4) == doctors
