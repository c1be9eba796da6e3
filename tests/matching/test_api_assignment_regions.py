"""POST/GET /api/v1/matching/assignments and GET /api/v1/matching/regions: operators assign the
day's home-visit requests without overloading any doctor (audited, greedy baseline beside it);
regions cluster the recorded demand; bad input gets a 4xx and changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from tests.conftest import TEST_CLIENT_ID
from yunyi.audit.models import AuditEntry
from yunyi.matching.models import AssignmentRun, DemandPoint, HomeVisitRequest, HomeVisitStatus
from yunyi.matching.services import home_visit_request_create

RUNS = "/api/v1/matching/assignments"
REGIONS = "/api/v1/matching/regions"
KM = 1 / 111.195
TOMORROW = date.today() + timedelta(days=1)


@pytest.fixture
def operator(make_user):
    return make_user(roles=["operator"])


def requests_around(patient, n: int, *, lat: float = 31.2304, lon: float = 121.4737, seed=0):
    rng = np.random.default_rng(seed)
    return [
        home_visit_request_create(
            patient=patient,
            lat=lat + float(dy) * KM,
            lon=lon + float(dx) * KM,
            department="cardiology",
            wanted_on=TOMORROW,
        )
        for dy, dx in rng.normal(0, 3, size=(n, 2))
    ]


def test_assignment_respects_capacity_beats_or_ties_greedy_and_is_audited(
    operator, make_user, verified_doctor, api_client_for
):
    patient = make_user(roles=["patient"])
    a = verified_doctor(capacity=3)
    b = verified_doctor(lat=31.2304 + 4 * KM, capacity=3)
    requests_around(patient, 8)

    response = api_client_for(operator).post(
        RUNS, {"wanted_on": TOMORROW.isoformat(), "department": "cardiology"}, "application/json"
    )

    assert response.status_code == 201, response.content
    run = response.json()
    assert (run["requests"], run["doctors"], run["assigned"]) == (8, 2, 6)
    assert run["over_capacity"] == 0
    loads = {row["doctor_id"]: row["load"] for row in run["doctor_loads"]}
    assert loads == {str(a.pk): 3, str(b.pk): 3}
    assert run["min_cost_flow"]["unassigned"] == 2
    assert run["min_cost_flow"]["cost"] <= run["greedy"]["cost"] + 1e-6
    assert sum(1 for row in run["plan"] if row["doctor_id"] is None) == 2
    assert not run["applied"]
    assert HomeVisitRequest.objects.filter(status=HomeVisitStatus.PENDING).count() == 8
    entry = AuditEntry.objects.get(action="matching.assignment.run")
    assert entry.object_id == run["id"] and entry.actor_id == str(operator.pk)
    assert entry.client_id == TEST_CLIENT_ID  # the app whose token ran it
    fetched = api_client_for(operator).get(f"{RUNS}/{run['id']}")
    assert fetched.status_code == 200 and fetched.json()["plan"] == run["plan"]


def test_applied_runs_count_earlier_assignments_against_capacity(
    operator, make_user, verified_doctor, api_client_for
):
    patient = make_user(roles=["patient"])
    doctor = verified_doctor(capacity=4)
    requests_around(patient, 3, seed=1)
    client = api_client_for(operator)
    body = {"wanted_on": TOMORROW.isoformat(), "apply": True}

    first = client.post(RUNS, body, "application/json").json()
    requests_around(patient, 3, seed=2)
    second = client.post(RUNS, body, "application/json").json()

    assert (first["assigned"], second["requests"], second["assigned"]) == (3, 3, 1)
    assert HomeVisitRequest.objects.filter(assigned_doctor_id=str(doctor.pk)).count() == 4
    assert HomeVisitRequest.objects.filter(status=HomeVisitStatus.PENDING).count() == 2


def test_a_day_without_requests_is_an_empty_run(operator, api_client_for):
    run = api_client_for(operator).post(
        RUNS, {"wanted_on": TOMORROW.isoformat()}, "application/json"
    )

    assert run.status_code == 201
    assert (run.json()["requests"], run.json()["assigned"], run.json()["plan"]) == (0, 0, [])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"wanted_on": "tomorrow"}, 422, "invalid_request"),
        ({"wanted_on": TOMORROW.isoformat(), "department": "astrology"}, 400, "unknown_department"),
        ({"wanted_on": TOMORROW.isoformat(), "surprise": 1}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ],
)
def test_bad_assignment_input_is_refused_and_writes_nothing(
    operator, api_client_for, body, status, code
):
    response = api_client_for(operator).post(RUNS, body, "application/json")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert AssignmentRun.objects.count() == 0


def test_only_operators_and_admins_run_assignments_and_see_regions(make_user, api_client_for):
    patient = api_client_for(make_user(roles=["patient"]))

    assert patient.post(RUNS, {"wanted_on": "2030-01-01"}, "application/json").status_code == 403
    assert patient.get(REGIONS).status_code == 403
    assert AssignmentRun.objects.count() == 0


def test_unknown_run_is_404(operator, api_client_for):
    client = api_client_for(operator)

    missing = client.get(f"{RUNS}/6f1c8f5e-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "assignment_run_not_found"
    assert client.get(f"{RUNS}/not-a-uuid").status_code == 422


def demand(n: int, centres: list[tuple[float, float]]) -> None:
    rng = np.random.default_rng(3)
    now = timezone.now()
    DemandPoint.objects.bulk_create(
        DemandPoint(
            lat=Decimal(str(round(centres[i % len(centres)][0] + rng.normal(0, 0.05), 2))),
            lon=Decimal(str(round(centres[i % len(centres)][1] + rng.normal(0, 0.05), 2))),
            department="cardiology",
            mode="home_visit",
            recorded_at=now - timedelta(days=1),
        )
        for i in range(n)
    )


def test_regions_find_the_cities_with_doctors_and_depots(operator, verified_doctor, api_client_for):
    verified_doctor(lat=39.9042, lon=116.4074)
    demand(600, [(31.2304, 121.4737), (39.9042, 116.4074), (23.1291, 113.2644)])

    response = api_client_for(operator).get(REGIONS)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["k"], body["chosen_by"], body["demand_total"]) == (3, "silhouette", 600)
    assert sorted(r["demand"] for r in body["regions"]) == [200, 200, 200]
    beijing = min(body["regions"], key=lambda r: abs(r["centroid"]["lat"] - 39.9))
    assert (beijing["doctors"], beijing["demand_per_doctor"]) == (1, 200.0)
    assert abs(beijing["depot"]["lat"] - 39.9) < 0.3
    assert len(body["points"]) == 600 and len(body["points"][0]) == 3


def test_regions_with_k_given_and_an_empty_period(operator, api_client_for):
    demand(300, [(31.2304, 121.4737), (39.9042, 116.4074)])
    client = api_client_for(operator)

    given = client.get(REGIONS, {"k": 4}).json()
    assert (given["k"], given["chosen_by"], len(given["regions"])) == (4, "operator", 4)

    past = timezone.now() - timedelta(days=400)
    empty = client.get(
        REGIONS, {"since": past.isoformat(), "until": (past + timedelta(days=1)).isoformat()}
    )
    assert empty.status_code == 200
    assert (empty.json()["regions"], empty.json()["empty_reason"]) == ([], "not_enough_demand")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"k": 1}, "k_out_of_range"),
        ({"k": 51}, "k_out_of_range"),
        ({"k": 300}, "k_out_of_range"),
        ({"k": 45}, "k_out_of_range"),  # more regions than distinct demand points
        ({"department": "astrology"}, "unknown_department"),
        (
            {"since": "2030-01-02T00:00:00+08:00", "until": "2030-01-01T00:00:00+08:00"},
            "invalid_period",
        ),
        (
            {"since": "2020-01-01T00:00:00+08:00", "until": "2030-01-01T00:00:00+08:00"},
            "invalid_period",
        ),
        ({"until": "2030-01-01T00:00:00"}, "invalid_period"),
    ],
)
def test_bad_regions_input_is_refused(operator, api_client_for, query, code):
    demand(30, [(31.2304, 121.4737)])

    response = api_client_for(operator).get(REGIONS, query)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code


@pytest.mark.postgres  # row locks are PostgreSQL's; SQLite serialises every writer anyway
@pytest.mark.django_db(transaction=True)
def test_concurrent_applied_runs_never_overbook_a_doctor(make_user, verified_doctor):
    import threading

    from django.db import connection

    from yunyi.audit.services import AuditContext
    from yunyi.matching.services import assignment_run_create

    operator = make_user(roles=["operator"])
    patient = make_user(roles=["patient"])
    doctor = verified_doctor(capacity=5)
    requests_around(patient, 8, seed=4)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            assignment_run_create(
                wanted_on=TOMORROW,
                department="cardiology",
                apply=True,
                created_by=operator,
                context=AuditContext(client_id="pytest"),
            )
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert HomeVisitRequest.objects.filter(assigned_doctor_id=str(doctor.pk)).count() == 5
    assert sorted(AssignmentRun.objects.values_list("assigned", flat=True)) == [0, 5]
