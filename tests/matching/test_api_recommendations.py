"""GET /api/v1/matching/recommendations: ranked verified doctors with cards and reasons, an
explained empty answer, coarse demand recorded without the user, and a 4xx for each bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from yunyi.matching.models import DemandPoint

URL = "/api/v1/matching/recommendations"
SHANGHAI = {"lat": "31.2304", "lon": "121.4737"}
KM = 1 / 111.195  # degrees of latitude per km


def params(**changes: Any) -> dict[str, Any]:
    base = {**SHANGHAI, "department": "cardiology", "mode": "home_visit"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def patient(make_user):
    return make_user(roles=["patient"])


def test_recommends_nearest_verified_doctors_with_cards_and_reasons(
    patient, verified_doctor, api_client_for
):
    near = verified_doctor(lat=31.2304 + 2 * KM, name="近医生")
    far = verified_doctor(lat=31.2304 + 12 * KM, name="远医生")
    verified_doctor(lat=31.2304 + 1 * KM, verify=False, name="未审核")
    verified_doctor(lat=31.2304 + 1 * KM, department="dermatology")

    response = api_client_for(patient).get(URL, params())

    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["doctor_id"] for item in body["items"]] == [str(near.pk), str(far.pk)]
    first = body["items"][0]
    assert first["doctor"]["display_name"] == "近医生"
    assert first["distance_km"] == pytest.approx(2.0, abs=0.05)
    kinds = [reason["kind"] for reason in first["reasons"]]
    assert kinds[:2] == ["distance_km", "next_slot"]
    assert first["reasons"][0]["value"] == 2.0
    assert body["empty_reason"] is None


def test_remote_mode_ignores_the_service_radius(patient, verified_doctor, api_client_for):
    beijing = verified_doctor(lat=39.9042, lon=116.4074, modes=("video",))

    body = api_client_for(patient).get(URL, params(mode="video")).json()

    assert [item["doctor_id"] for item in body["items"]] == [str(beijing.pk)]
    assert body["items"][0]["distance_km"] > 1000


def test_home_visit_beyond_the_doctors_radius_is_an_explained_empty_answer(
    patient, verified_doctor, api_client_for
):
    verified_doctor(lat=31.2304 + 30 * KM, radius_km=10.0)

    response = api_client_for(patient).get(URL, params())

    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["empty_reason"] == "none_in_radius"


def test_no_doctor_in_the_department_is_an_explained_empty_answer(patient, api_client_for):
    response = api_client_for(patient).get(URL, params(department="psychiatry"))

    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["empty_reason"] == "no_doctors"


def test_suspended_doctor_disappears_from_the_next_answer(
    patient, verified_doctor, api_client_for, make_user
):
    from yunyi.audit.services import AuditContext
    from yunyi.practitioners import selectors as practitioner_selectors
    from yunyi.practitioners import services as practitioners

    doctor = verified_doctor()
    client = api_client_for(patient)
    assert len(client.get(URL, params()).json()["items"]) == 1
    licence = practitioner_selectors.latest_licence(user_id=doctor.pk)
    assert licence is not None
    practitioners.licence_decide(
        reviewer=make_user(roles=["admin"]),
        licence_id=str(licence.pk),
        decision="suspend",
        reason="licence lapsed",
        context=AuditContext(client_id="pytest"),
    )

    body = client.get(URL, params()).json()

    assert body["items"] == []
    assert body["empty_reason"] == "no_doctors"


def test_query_location_is_recorded_coarsely_without_the_user(
    patient, verified_doctor, api_client_for
):
    api_client_for(patient).get(URL, params(lat="31.234567", lon="121.476543"))

    point = DemandPoint.objects.get()
    assert (point.lat, point.lon) == (Decimal("31.23"), Decimal("121.48"))
    assert point.department == "cardiology"
    assert point.recorded_at.minute == 0
    assert str(patient.pk) not in str([f.name for f in DemandPoint._meta.get_fields()])
    assert not hasattr(point, "user_id") and not hasattr(point, "patient_id")


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"lat": "91"}, 400, "invalid_coordinates"),
        ({"lon": "-180.5"}, 400, "invalid_coordinates"),
        ({"lat": "nan"}, 400, "invalid_coordinates"),
        ({"lat": "inf"}, 400, "invalid_coordinates"),
        ({"lat": "north"}, 422, "invalid_request"),
        ({"lat": "1e309"}, 400, "invalid_coordinates"),
        ({"department": "astrology"}, 400, "unknown_department"),
        ({"department": "' OR 1=1 --"}, 400, "unknown_department"),
        ({"mode": "telepathy"}, 400, "unknown_mode"),
        ({"radius_km": "51"}, 400, "radius_out_of_range"),
        ({"radius_km": "0"}, 400, "radius_out_of_range"),
        ({"radius_km": "-3"}, 400, "radius_out_of_range"),
        ({"limit": "0"}, 400, "limit_out_of_range"),
        ({"limit": "100000"}, 400, "limit_out_of_range"),
        ({"limit": "ten"}, 422, "invalid_request"),
    ],
)
def test_bad_input_is_refused_and_records_nothing(patient, api_client_for, changes, status, code):
    response = api_client_for(patient).get(URL, params(**changes))

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert DemandPoint.objects.count() == 0


def test_windows_in_the_past_reversed_naive_or_too_long_are_refused(patient, api_client_for):
    now = timezone.now()
    client = api_client_for(patient)
    cases = [
        (now - timedelta(days=2), now - timedelta(days=1), "time_window_in_past"),
        (now + timedelta(days=2), now + timedelta(days=1), "invalid_time_window"),
        (now + timedelta(days=1), now + timedelta(days=30), "invalid_time_window"),
    ]
    for start, end, code in cases:
        response = client.get(URL, params(start=start.isoformat(), end=end.isoformat()))
        assert response.status_code == 400, (code, response.content)
        assert response.json()["error"]["code"] == code
    naive = client.get(URL, params(start="2030-01-01T10:00:00", end="2030-01-01T12:00:00"))
    assert naive.status_code == 400
    assert naive.json()["error"]["code"] == "invalid_time_window"
    assert DemandPoint.objects.count() == 0


def test_only_patients_and_guardians_may_search(make_user, api_client_for, client):
    doctor = make_user(roles=["doctor"])

    assert api_client_for(doctor).get(URL, params()).status_code == 403
    assert client.get(URL, params()).status_code == 401


def test_guardian_may_search_for_a_ward_but_not_for_a_stranger(
    make_user, make_ward, api_client_for
):
    guardian = make_user(roles=["guardian"], real_name=True)
    ward = make_ward(guardian)
    stranger = make_user(roles=["patient"])
    client = api_client_for(guardian)

    assert client.get(URL, params(patient=str(ward.pk))).status_code == 200
    refused = client.get(URL, params(patient=str(stranger.pk)))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_for_this_patient"


def test_errors_speak_the_callers_language(patient, api_client_for):
    client = api_client_for(patient)

    zh = client.get(URL, params(mode="telepathy"), headers={"Accept-Language": "zh-hans"})
    en = client.get(URL, params(mode="telepathy"), headers={"Accept-Language": "en"})

    assert zh.json()["error"]["message"] == "未知的问诊方式。"
    assert en.json()["error"]["message"] == "Unknown consultation mode."


def test_a_doctor_who_cares_for_the_patient_ranks_first_and_says_so(
    patient, verified_doctor, api_client_for
):
    from yunyi.audit.services import AuditContext
    from yunyi.emr.care import care_relationship_grant

    verified_doctor(lat=31.2304 + 1 * KM, name="近医生")
    known = verified_doctor(lat=31.2304 + 4 * KM, name="老医生")
    care_relationship_grant(
        practitioner=known,
        patient_id=str(patient.pk),
        reason="follow-up",
        expires_at=None,
        context=AuditContext(client_id="pytest"),
    )

    first = api_client_for(patient).get(URL, params()).json()["items"][0]

    assert first["doctor_id"] == str(known.pk)
    assert "saw_you_before" in [reason["kind"] for reason in first["reasons"]]


def test_hostile_preferences_match_nothing_and_do_no_harm(patient, verified_doctor, api_client_for):
    verified_doctor(languages=("zh", "en"), gender="female")
    client = api_client_for(patient)

    response = client.get(
        URL,
        params(
            languages="<script>," + "x" * 5000 + ",en," + ",".join(str(i) for i in range(500)),
            gender="' OR 1=1 --",
        ),
    )

    assert response.status_code == 200
    kinds = [reason["kind"] for reason in response.json()["items"][0]["reasons"]]
    assert "gender_match" not in kinds
    not_a_uuid = client.get(URL, params(patient="../../etc/passwd"))
    assert not_a_uuid.status_code == 403
    assert not_a_uuid.json()["error"]["code"] == "not_for_this_patient"
