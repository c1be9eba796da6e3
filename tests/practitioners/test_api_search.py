"""`GET /api/v1/doctors`, `/doctors/{id}` and `/departments`: only verified doctors, filters,
distance, and clear errors for bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.practitioners.conftest import every_day
from yunyi.accounts.models import User
from yunyi.practitioners.departments import DEPARTMENTS

pytestmark = pytest.mark.django_db

SHANGHAI = (31.2304, 121.4737)
SUZHOU = (31.2989, 120.5853)  # ~85 km from Shanghai
BEIJING = (39.9042, 116.4074)


def get(path: str, **params: Any) -> Any:
    return Client().get(path, params)


def ids(response: Any) -> list[str]:
    return [item["id"] for item in response.json()["items"]]


def test_departments_list_the_catalogue_in_both_languages() -> None:
    response = get("/api/v1/departments")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == len(DEPARTMENTS)
    cardiology = next(d for d in body if d["code"] == "cardiology")
    assert cardiology == {
        "code": "cardiology",
        "zh": "心血管内科",
        "en": "Cardiology",
        "nhc_code": "03.04",
    }


def test_search_lists_only_verified_doctors(make_doctor: Callable[..., User]) -> None:
    verified = make_doctor(status="verified")
    for status in ("pending", "suspended", "rejected", None):
        make_doctor(status=status)

    response = get("/api/v1/doctors")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert ids(response) == [str(verified.pk)]


def test_search_filters_by_department_mode_and_text(make_doctor: Callable[..., User]) -> None:
    cardio_video = make_doctor(department="cardiology", fees={"video": 100}, hospital="瑞金医院")
    make_doctor(department="endocrinology", fees={"video": 100})
    cardio_home = make_doctor(department="cardiology", fees={"home_visit": 100})

    assert ids(get("/api/v1/doctors", department="cardiology", mode="video")) == [
        str(cardio_video.pk)
    ]
    assert ids(get("/api/v1/doctors", mode="home_visit")) == [str(cardio_home.pk)]
    assert ids(get("/api/v1/doctors", text="瑞金")) == [str(cardio_video.pk)]


def test_near_search_keeps_doctors_within_radius_nearest_first(
    make_doctor: Callable[..., User],
) -> None:
    shanghai = make_doctor(lat=SHANGHAI[0] + 0.01, lon=SHANGHAI[1])
    suzhou = make_doctor(lat=SUZHOU[0], lon=SUZHOU[1])
    make_doctor(lat=BEIJING[0], lon=BEIJING[1])

    near = get("/api/v1/doctors", lat=SHANGHAI[0], lon=SHANGHAI[1], radius_km=100)
    close = get("/api/v1/doctors", lat=SHANGHAI[0], lon=SHANGHAI[1], radius_km=10)

    assert ids(near) == [str(shanghai.pk), str(suzhou.pk)]
    assert ids(close) == [str(shanghai.pk)]


def test_pagination_pages_through_results(make_doctor: Callable[..., User]) -> None:
    for _ in range(3):
        make_doctor()
    first = get("/api/v1/doctors", limit=2)
    second = get("/api/v1/doctors", limit=2, offset=2)
    assert first.json()["count"] == 3
    assert len(ids(first)) == 2
    assert len(ids(second)) == 1
    assert set(ids(first)).isdisjoint(ids(second))


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"lat": "91", "lon": "121"}, "invalid_coordinates"),
        ({"lat": "31", "lon": "-181"}, "invalid_coordinates"),
        ({"lat": "north", "lon": "121"}, "invalid_coordinates"),
        ({"lat": "nan", "lon": "121"}, "invalid_coordinates"),
        ({"lat": "inf", "lon": "121"}, "invalid_coordinates"),
        ({"lat": "31"}, "invalid_coordinates"),
        ({"lat": "31", "lon": "121", "radius_km": "100000"}, "radius_too_large"),
        ({"lat": "31", "lon": "121", "radius_km": "-1"}, "invalid_radius"),
        ({"lat": "31", "lon": "121", "radius_km": "far"}, "invalid_radius"),
        ({"department": "astrology"}, "unknown_department"),
        ({"department": "'; DROP TABLE practitioners_doctorprofile; --"}, "unknown_department"),
        ({"mode": "telepathy"}, "unknown_mode"),
        ({"limit": "0"}, "invalid_search"),
        ({"limit": "1000"}, "invalid_search"),
        ({"offset": "-1"}, "invalid_search"),
        ({"limit": "ten"}, "invalid_search"),
    ],
)
def test_bad_search_input_is_a_clear_400(params: dict[str, str], code: str) -> None:
    response = get("/api/v1/doctors", **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_radius_cap_follows_the_setting(settings: Any) -> None:
    settings.PRACTITIONERS_MAX_SEARCH_RADIUS_KM = 20
    response = get("/api/v1/doctors", lat="31", lon="121", radius_km="21")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"max_km": 20.0}


def test_public_profile_shows_next_seven_days_of_slots(make_doctor: Callable[..., User]) -> None:
    doctor = make_doctor(templates=every_day(start="09:00", end="10:00"), bio="糖尿病专科")

    response = get(f"/api/v1/doctors/{doctor.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(doctor.pk)
    assert body["bio"] == "糖尿病专科"
    assert body["fees"] == {"video": 3000, "in_person": 5000}
    assert body["online"] is False
    # Two 30-minute slots a day over 7 days; today's may already have passed.
    assert 12 <= len(body["slots"]) <= 16
    assert body["slots"] == sorted(body["slots"], key=lambda s: s["start"])


@pytest.mark.parametrize("status", ["pending", "suspended", "rejected", None])
def test_public_profile_of_unverified_doctor_is_not_found(
    make_doctor: Callable[..., User], status: str | None
) -> None:
    doctor = make_doctor(status=status)
    response = get(f"/api/v1/doctors/{doctor.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "doctor_not_found"


@pytest.mark.parametrize(
    "doctor_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "1%27OR%271"]
)
def test_unknown_doctor_ids_are_not_found(doctor_id: str) -> None:
    response = get(f"/api/v1/doctors/{doctor_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "doctor_not_found"


def test_error_messages_speak_the_callers_language() -> None:
    zh = Client(headers={"Accept-Language": "zh-hans"}).get("/api/v1/doctors", {"mode": "x"})
    en = Client(headers={"Accept-Language": "en"}).get("/api/v1/doctors", {"mode": "x"})
    assert zh.json()["error"]["message"] == "问诊方式必须是 video、text、in_person 或 home_visit。"
    assert en.json()["error"]["message"] == (
        "The consultation mode must be video, text, in_person or home_visit."
    )
