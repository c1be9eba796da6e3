"""Great-circle distances, the k-means projection, and coordinate validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yunyi.matching.errors import MatchingErrorCode, MatchingInputError
from yunyi.matching.geo import (
    EARTH_RADIUS_KM,
    chord_to_arc_km,
    from_sphere_xyz,
    haversine_km,
    haversine_km_array,
    to_sphere_xyz_km,
    validate_point,
    validate_points,
)

BEIJING = (39.9042, 116.4074)
SHANGHAI = (31.2304, 121.4737)
GUANGZHOU = (23.1291, 113.2644)
SHENZHEN = (22.5431, 114.0579)


def test_haversine_beijing_shanghai_is_1067_km():
    assert haversine_km(*BEIJING, *SHANGHAI) == pytest.approx(1067.3, abs=0.1)


def test_haversine_known_city_pairs():
    assert haversine_km(*BEIJING, *GUANGZHOU) == pytest.approx(1888.6, abs=0.1)
    assert haversine_km(*GUANGZHOU, *SHENZHEN) == pytest.approx(104.2, abs=0.1)
    assert haversine_km(*BEIJING, *BEIJING) == 0.0


def test_haversine_is_symmetric_and_handles_antimeridian_and_antipodes():
    assert haversine_km(10.0, 179.5, 10.0, -179.5) == pytest.approx(109.5, abs=0.1)
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert haversine_km(*SHANGHAI, *BEIJING) == haversine_km(*BEIJING, *SHANGHAI)


def test_haversine_array_matches_scalar_and_broadcasts():
    lats = np.array([BEIJING[0], SHANGHAI[0], GUANGZHOU[0]])
    lons = np.array([BEIJING[1], SHANGHAI[1], GUANGZHOU[1]])
    matrix = haversine_km_array(lats[:, None], lons[:, None], lats[None, :], lons[None, :])
    assert matrix.shape == (3, 3)
    assert np.allclose(np.diag(matrix), 0.0)
    assert matrix[0, 1] == pytest.approx(haversine_km(*BEIJING, *SHANGHAI), rel=1e-12)
    assert matrix[2, 0] == pytest.approx(haversine_km(*GUANGZHOU, *BEIJING), rel=1e-12)


def test_sphere_projection_round_trips_and_chord_is_exact_after_conversion():
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(-80, 80, 200), rng.uniform(-180, 180, 200)
    xyz = to_sphere_xyz_km(lat, lon)
    assert np.allclose(np.linalg.norm(xyz, axis=1), EARTH_RADIUS_KM)
    back_lat, back_lon = from_sphere_xyz(xyz)
    assert np.allclose(back_lat, lat, atol=1e-9)
    assert np.allclose(back_lon, lon, atol=1e-9)
    chord = np.linalg.norm(xyz[:100] - xyz[100:], axis=1)
    arc = haversine_km_array(lat[:100], lon[:100], lat[100:], lon[100:])
    assert np.allclose(chord_to_arc_km(chord), arc, rtol=1e-9, atol=1e-6)


def test_chord_error_stays_within_the_documented_bound():
    xyz = to_sphere_xyz_km([BEIJING[0], SHANGHAI[0]], [BEIJING[1], SHANGHAI[1]])
    chord = float(np.linalg.norm(xyz[0] - xyz[1]))
    arc = haversine_km(*BEIJING, *SHANGHAI)
    bound = (arc / EARTH_RADIUS_KM) ** 2 / 24
    assert 0 < 1 - chord / arc <= bound * 1.001
    assert 1 - chord / arc == pytest.approx(1.17e-3, abs=0.01e-3)


def test_a_centre_inside_the_sphere_projects_to_the_surface_above_it():
    lat, lon = from_sphere_xyz(0.5 * to_sphere_xyz_km([SHANGHAI[0]], [SHANGHAI[1]]))
    assert (float(lat[0]), float(lon[0])) == pytest.approx(SHANGHAI, abs=1e-9)


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (float("nan"), 121.0, "lat"),
        (31.0, float("inf"), "lon"),
        (90.0001, 121.0, "lat"),
        (-91, 121.0, "lat"),
        (31.0, 180.5, "lon"),
        (31.0, -181, "lon"),
        ("31.2", 121.0, "lat"),
        (True, 121.0, "lat"),
        (31.0, None, "lon"),
    ],
)
def test_validate_point_rejects_bad_coordinates(lat, lon, field):
    with pytest.raises(MatchingInputError) as caught:
        validate_point(lat, lon)
    assert caught.value.code is MatchingErrorCode.INVALID_COORDINATES
    assert caught.value.details["field"] == field


def test_validate_point_accepts_the_boundaries_and_integers():
    assert validate_point(90, -180) == (90.0, -180.0)
    assert validate_point(-90.0, 180.0) == (-90.0, 180.0)


def test_validate_points_names_the_first_bad_row():
    with pytest.raises(MatchingInputError) as caught:
        validate_points([31.0, 95.0, float("nan")], [121.0, 121.0, 121.0], what="requests")
    assert caught.value.code is MatchingErrorCode.INVALID_COORDINATES
    assert caught.value.details == {"what": "requests", "first_index": 1, "count": 2}


def test_validate_points_rejects_mismatched_lengths_and_text():
    with pytest.raises(MatchingInputError) as caught:
        validate_points([31.0, 32.0], [121.0])
    assert caught.value.code is MatchingErrorCode.SHAPE_MISMATCH
    with pytest.raises(MatchingInputError) as caught:
        validate_points(["north"], [121.0])
    assert caught.value.code is MatchingErrorCode.INVALID_COORDINATES
