"""Demo data of matching (`yunyi demo`): coarse demand points for the service-regions map and
tomorrow's pending home-visit requests in Shanghai for the assignment page (runs
after the practitioners demo, whose verified doctors it places the requests around).

Idempotent and quick: demand is added only while fewer than `DEMAND_POINTS` exist, and requests
only when tomorrow has none yet (one bulk insert each, seeded, so every run draws the same).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, TextIO

import numpy as np
from django.utils import timezone

from yunyi.matching.doctor_index import ConsultMode
from yunyi.matching.geo import haversine_km
from yunyi.matching.models import DemandPoint, HomeVisitRequest
from yunyi.matching.selectors import live_index
from yunyi.matching.services import coarse
from yunyi.matching.synthetic import CITIES, KM_PER_DEGREE_LAT, synthetic_points

DEMAND_POINTS = 4_000
DEMAND_DAYS = 60
HOME_VISITS = 100
BUSY_DOCTORS = 6
HOME_VISIT_CITIES = ("Shanghai",)  # one city: its map stays legible
# Departments that see patients at home most (chronic care, children, the elderly).
HOME_VISIT_DEPARTMENTS = ("general_practice", "cardiology", "paediatrics", "endocrinology")
DEMAND_DEPARTMENTS = (
    *HOME_VISIT_DEPARTMENTS,
    "respiratory",
    "dermatology",
    "orthopaedics",
    "gastroenterology",
)


def demo_load(users: Mapping[str, Any], stdout: TextIO) -> None:
    added_demand = _demand()
    added_visits = _home_visits(users)
    stdout.write(
        f"matching: {added_demand} demand points, {added_visits} home-visit requests for tomorrow\n"
    )


def _demand() -> int:
    missing = DEMAND_POINTS - DemandPoint.objects.count()
    if missing <= 0:
        return 0
    lat, lon, _city = synthetic_points(missing, seed=4)
    rng = np.random.default_rng(4)
    department = rng.integers(0, len(DEMAND_DEPARTMENTS), size=missing)
    mode = rng.choice(["video", "text", "in_person", "home_visit"], size=missing)
    hours_ago = rng.integers(1, DEMAND_DAYS * 24, size=missing)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    DemandPoint.objects.bulk_create(
        DemandPoint(
            lat=coarse(lat[i]),
            lon=coarse(lon[i]),
            department=DEMAND_DEPARTMENTS[department[i]],
            mode=str(mode[i]),
            recorded_at=now - timedelta(hours=int(hours_ago[i])),
        )
        for i in range(missing)
    )
    return missing


def _home_visits(users: Mapping[str, Any]) -> int:
    """Requests around a few verified doctors who make home visits in Shanghai (each
    within its doctor's service radius, in its department), so tomorrow's assignment has real
    choices; around the city centres when no such doctor exists yet."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    if HomeVisitRequest.objects.filter(wanted_on=tomorrow).exists():
        return 0
    patients = [users[name] for name in ("patient1", "patient2", "guardian1") if name in users]
    if not patients:
        return 0
    cities = tuple(c for c in CITIES if c.name_en in HOME_VISIT_CITIES)
    rng = np.random.default_rng(5)
    with live_index().using() as index:
        doctors = [
            d
            for d in index.doctors(mode=ConsultMode.HOME_VISIT)
            if min(haversine_km(d.lat, d.lon, c.lat, c.lon) for c in cities) < 80
        ]
    places: list[tuple[float, float, str]] = []
    if doctors:
        # A few busy doctors rather than many idle ones: capacity then binds and the
        # assignment has trade-offs to make (greedy and the flow part ways).
        doctors = [doctors[int(i)] for i in rng.permutation(len(doctors))[:BUSY_DOCTORS]]
        for pick in rng.integers(0, len(doctors), size=HOME_VISITS):
            doctor = doctors[int(pick)]
            north, east = rng.normal(0, 0.5 * max(doctor.service_radius_km, 2.0), size=2)
            lat = doctor.lat + north / KM_PER_DEGREE_LAT
            lon = doctor.lon + east / (KM_PER_DEGREE_LAT * np.cos(np.radians(doctor.lat)))
            places.append((float(lat), float(lon), doctor.department))
    else:
        lat_a, lon_a, _city = synthetic_points(HOME_VISITS, seed=5, cities=cities)
        department = rng.integers(0, len(HOME_VISIT_DEPARTMENTS), size=HOME_VISITS)
        places = [
            (float(lat_a[i]), float(lon_a[i]), HOME_VISIT_DEPARTMENTS[department[i]])
            for i in range(HOME_VISITS)
        ]
    HomeVisitRequest.objects.bulk_create(
        HomeVisitRequest(
            patient=patients[i % len(patients)],
            lat=coarse(lat),
            lon=coarse(lon),
            department=department_code,
            wanted_on=tomorrow,
        )
        for i, (lat, lon, department_code) in enumerate(places)
    )
    return HOME_VISITS
