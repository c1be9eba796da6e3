"""Great-circle distances and the projection k-means runs on.

Distances: haversine on a sphere of the IUGG mean Earth radius (6,371.0088 km). Against the WGS 84
ellipsoid the sphere errs by at most ~0.5 % (typically 0.1-0.3 %), which is far below the
uncertainty of a geocoded address or a road detour, so no ellipsoidal geodesic is worth its cost.

Projection for k-means: 3-D Cartesian coordinates on that sphere, in km (`to_sphere_xyz_km`).
Euclidean distance there is the chord, chord = 2R·sin(d / 2R) for a great-circle distance d, so:

- the chord is a strictly increasing function of d: "nearest centre" is the same under both, and
  the ordering of distances is exact everywhere on Earth (no seam at ±180°, no polar blow-up);
- the chord under-estimates d by a relative (d/R)²/24: 1.0e-5 at 100 km, 1.0e-3 at 1,000 km,
  0.9 % at 3,000 km (Beijing-Guangzhou is ~1,890 km: 0.37 %). Squared chords, which k-means
  minimises, err by twice that.

A local equirectangular or azimuthal projection around the data's centroid would be exact only near
the centroid and distorts by several percent across China's 5,000 km; raw latitude/longitude
degrees are worse (a degree of longitude is 111 km at the equator but 79 km at Beijing). A k-means
centre is the mean of points on the sphere and therefore lies slightly inside it;
`from_sphere_xyz` projects it radially back to the surface (the extrinsic spherical mean).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from yunyi.matching.errors import MatchingErrorCode, MatchingInputError

EARTH_RADIUS_KM = 6371.0088

FloatArray = NDArray[np.float64]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def haversine_km_array(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> FloatArray:
    """Vectorised `haversine_km` with NumPy broadcasting (e.g. one point against (n,) arrays, or
    (n, 1) against (1, m) for a distance matrix)."""
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlambda = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def validate_point(lat: Any, lon: Any) -> tuple[float, float]:
    """One latitude/longitude pair in degrees, checked: real numbers (not bool, not str), finite,
    latitude in [-90, 90], longitude in [-180, 180]. Raises `invalid_coordinates`."""
    # Fast path for the common case (index builds validate every doctor); NaN fails the compares.
    if (
        type(lat) is float
        and type(lon) is float
        and -90.0 <= lat <= 90.0
        and -180.0 <= lon <= 180.0
    ):
        return lat, lon
    for name, value in (("lat", lat), ("lon", lon)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise MatchingInputError(
                MatchingErrorCode.INVALID_COORDINATES,
                f"{name} must be a number",
                details={"field": name},
            )
        if not math.isfinite(float(value)):
            raise MatchingInputError(
                MatchingErrorCode.INVALID_COORDINATES,
                f"{name} must be finite",
                details={"field": name},
            )
    if not -90.0 <= float(lat) <= 90.0:
        raise MatchingInputError(
            MatchingErrorCode.INVALID_COORDINATES,
            "lat must be within [-90, 90]",
            details={"field": "lat", "min": -90, "max": 90},
        )
    if not -180.0 <= float(lon) <= 180.0:
        raise MatchingInputError(
            MatchingErrorCode.INVALID_COORDINATES,
            "lon must be within [-180, 180]",
            details={"field": "lon", "min": -180, "max": 180},
        )
    return float(lat), float(lon)


def validate_points(
    lat: ArrayLike, lon: ArrayLike, *, what: str = "points"
) -> tuple[FloatArray, FloatArray]:
    """Arrays of latitudes/longitudes in degrees, checked like `validate_point`; `details` name the
    first offending index so an operator can find the bad row."""
    try:
        lat_a = np.asarray(lat, dtype=np.float64).reshape(-1)
        lon_a = np.asarray(lon, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise MatchingInputError(
            MatchingErrorCode.INVALID_COORDINATES,
            f"{what}: coordinates must be numbers",
            details={"what": what},
        ) from exc
    if lat_a.shape != lon_a.shape:
        raise MatchingInputError(
            MatchingErrorCode.SHAPE_MISMATCH,
            f"{what}: {lat_a.size} latitudes but {lon_a.size} longitudes",
            details={"what": what, "lat": int(lat_a.size), "lon": int(lon_a.size)},
        )
    bad = ~(np.isfinite(lat_a) & np.isfinite(lon_a))
    bad |= (np.abs(lat_a) > 90.0) | (np.abs(lon_a) > 180.0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise MatchingInputError(
            MatchingErrorCode.INVALID_COORDINATES,
            f"{what}: {int(bad.sum())} coordinates are not finite or out of range",
            details={"what": what, "first_index": first, "count": int(bad.sum())},
        )
    return lat_a, lon_a


def to_radians_pairs(lat: ArrayLike, lon: ArrayLike) -> FloatArray:
    """(n, 2) [lat, lon] in radians: the layout scikit-learn's haversine metric expects."""
    return np.radians(np.column_stack([np.asarray(lat, np.float64), np.asarray(lon, np.float64)]))


def to_sphere_xyz_km(lat: ArrayLike, lon: ArrayLike) -> FloatArray:
    """(n, 3) Cartesian coordinates in km on the Earth sphere (see the module docstring)."""
    phi = np.radians(np.asarray(lat, dtype=np.float64).reshape(-1))
    lam = np.radians(np.asarray(lon, dtype=np.float64).reshape(-1))
    cos_phi = np.cos(phi)
    return EARTH_RADIUS_KM * np.column_stack(
        [cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)]
    )


def from_sphere_xyz(xyz: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Latitudes and longitudes in degrees of (n, 3) points, projected radially onto the sphere
    (so a k-means centre inside the sphere maps to the surface point above it)."""
    points = np.atleast_2d(np.asarray(xyz, dtype=np.float64))
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.degrees(np.arctan2(y, x))
    return lat, lon


def chord_to_arc_km(chord_km: ArrayLike) -> FloatArray:
    """Great-circle distance for a chord length (both km): d = 2R·asin(c / 2R)."""
    c = np.asarray(chord_km, dtype=np.float64)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(c / (2 * EARTH_RADIUS_KM), 0.0, 1.0))
