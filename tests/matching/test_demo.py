"""The matching demo: demand for the regions map and tomorrow's home-visit requests, loaded
idempotently."""

from __future__ import annotations

import io
from datetime import timedelta

from django.utils import timezone

from yunyi.matching.demo import DEMAND_POINTS, HOME_VISITS, demo_load
from yunyi.matching.models import DemandPoint, HomeVisitRequest


def test_demo_loads_demand_and_tomorrows_requests_once(make_user):
    users = {"patient1": make_user(roles=["patient"]), "patient2": make_user(roles=["patient"])}

    demo_load(users, io.StringIO())
    demo_load(users, io.StringIO())

    assert DemandPoint.objects.count() == DEMAND_POINTS
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert HomeVisitRequest.objects.filter(wanted_on=tomorrow).count() == HOME_VISITS
    assert not DemandPoint.objects.filter(recorded_at__gt=timezone.now()).exists()
    lats = set(HomeVisitRequest.objects.values_list("lat", flat=True))
    assert all(29.5 < float(v) < 33 for v in lats)  # around Shanghai only


def test_demo_places_requests_around_home_visit_doctors_in_their_department(
    make_user, verified_doctor
):
    verified_doctor(department="paediatrics", modes=("home_visit",), radius_km=10.0)
    verified_doctor(lat=39.9, lon=116.4, department="dermatology", modes=("video",))

    demo_load({"patient1": make_user(roles=["patient"])}, io.StringIO())

    rows = list(HomeVisitRequest.objects.values_list("department", "lat", "lon"))
    assert len(rows) == HOME_VISITS
    assert {department for department, _lat, _lon in rows} == {"paediatrics"}
    assert max(abs(float(lat) - 31.2304) for _d, lat, _lon in rows) < 0.35  # ~5 sigma of 5 km
