"""A doctor's own practice: profile, photo, schedule, presence. Bad input changes nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from yunyi.accounts.models import User
from yunyi.practitioners.models import DoctorProfile, ScheduleException, WeeklyAvailability

pytestmark = pytest.mark.django_db

PROFILE: dict[str, Any] = {
    "display_name": "张医生",
    "title": "chief",
    "department": "endocrinology",
    "hospital": "上海市第六人民医院",
    "practice_address": "上海市徐汇区宜山路600号",
    "city": "上海",
    "latitude": 31.1663,
    "longitude": 121.4255,
    "languages": ["zh", "en"],
    "fees": {"video": 5000, "text": 2000, "in_person": 8000},
    "service_radius_km": 15,
    "daily_capacity": 30,
    "gender": "male",
    "bio": "糖尿病与甲状腺疾病",
}

WEEK = {
    "templates": [
        {
            "weekday": 0,
            "start_time": "09:00",
            "end_time": "12:00",
            "slot_minutes": 30,
            "modes": ["video", "text"],
        },
        {
            "weekday": 0,
            "start_time": "14:00",
            "end_time": "17:00",
            "slot_minutes": 20,
            "modes": ["in_person"],
        },
        {
            "weekday": 2,
            "start_time": "09:00",
            "end_time": "11:00",
            "slot_minutes": 15,
            "modes": ["video"],
        },
    ],
    "exceptions": [
        {"kind": "holiday", "start_date": "2027-01-01", "end_date": "2027-01-03", "note": "元旦"}
    ],
}


def put(client: Client, path: str, body: Any) -> Any:
    return client.put(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def doctor(make_user: Callable[..., User]) -> User:
    return make_user(roles=["doctor"])


@pytest.fixture
def client(doctor: User, api_client_for: Callable[..., Client]) -> Client:
    return api_client_for(doctor)


def test_doctor_creates_and_reads_own_profile(client: Client, doctor: User) -> None:
    assert client.get("/api/v1/doctors/me/profile").json()["error"]["code"] == "profile_missing"

    saved = put(client, "/api/v1/doctors/me/profile", PROFILE)

    assert saved.status_code == 200
    body = client.get("/api/v1/doctors/me/profile").json()
    assert body["id"] == str(doctor.pk)
    assert body["fees"] == {"video": 5000, "text": 2000, "in_person": 8000}
    assert body["languages"] == ["zh", "en"]
    assert body["is_verified"] is False
    assert body["licence"] is None
    assert body["presence"] == {"status": "offline", "last_seen": None, "queue_room": 5}
    assert body["max_service_radius_km"] == 50.0


def test_only_doctors_have_a_practice(
    make_user: Callable[..., User], api_client_for: Callable[..., Client]
) -> None:
    patient = api_client_for(make_user(roles=["patient"]))
    response = put(patient, "/api/v1/doctors/me/profile", PROFILE)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_doctor"
    assert not DoctorProfile.objects.exists()


def test_anonymous_callers_cannot_edit() -> None:
    response = put(Client(), "/api/v1/doctors/me/profile", PROFILE)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"latitude": 91}, 400, "invalid_coordinates"),
        ({"longitude": -180.5}, 400, "invalid_coordinates"),
        ({"latitude": None}, 400, "invalid_coordinates"),
        ({"latitude": "north"}, 422, "invalid_request"),
        ({"department": "astrology"}, 400, "unknown_department"),
        ({"fees": {"telepathy": 100}}, 400, "unknown_mode"),
        ({"fees": {"video": -1}}, 400, "invalid_fee"),
        ({"fees": {"video": 12.5}}, 422, "invalid_request"),
        ({"service_radius_km": 51}, 400, "radius_too_large"),
        ({"service_radius_km": -1}, 400, "invalid_radius"),
        ({"title": "professor"}, 400, "unknown_title"),
        ({"languages": ["klingon"]}, 400, "unknown_language"),
        ({"time_zone": "Mars/Olympus"}, 400, "unknown_time_zone"),
        ({"time_zone": "../../etc/passwd"}, 400, "unknown_time_zone"),
        ({"display_name": "   "}, 400, "invalid_profile"),
        ({"daily_capacity": 100000}, 400, "invalid_profile"),
        ({"is_verified": True}, 422, "invalid_request"),
        ({"bio": "x" * 2001}, 422, "invalid_request"),
    ],
)
def test_bad_profile_input_is_refused_and_changes_nothing(
    client: Client, change: dict[str, Any], status: int, code: str
) -> None:
    put(client, "/api/v1/doctors/me/profile", PROFILE)
    before = list(DoctorProfile.objects.values())

    response = put(client, "/api/v1/doctors/me/profile", {**PROFILE, **change})

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert list(DoctorProfile.objects.values()) == before


def test_malformed_json_is_refused(client: Client) -> None:
    response = client.put(
        "/api/v1/doctors/me/profile", "{not json", content_type="application/json"
    )
    assert response.status_code in (400, 422)
    assert "error" in response.json()
    assert not DoctorProfile.objects.exists()


def test_schedule_round_trips(client: Client) -> None:
    put(client, "/api/v1/doctors/me/profile", PROFILE)

    saved = put(client, "/api/v1/doctors/me/schedule", WEEK)

    assert saved.status_code == 200
    body = client.get("/api/v1/doctors/me/schedule").json()
    assert body["time_zone"] == "Asia/Shanghai"
    assert [(t["weekday"], t["start_time"], t["slot_minutes"]) for t in body["templates"]] == [
        (0, "09:00:00", 30),
        (0, "14:00:00", 20),
        (2, "09:00:00", 15),
    ]
    assert body["exceptions"] == WEEK["exceptions"]


def _template(**change: Any) -> dict[str, Any]:
    return {
        "weekday": 1,
        "start_time": "09:00",
        "end_time": "12:00",
        "slot_minutes": 30,
        "modes": ["video"],
        **change,
    }


@pytest.mark.parametrize(
    ("templates", "exceptions", "status", "code"),
    [
        (
            [_template(), _template(start_time="11:00", end_time="13:00")],
            [],
            400,
            "overlapping_templates",
        ),
        ([_template(slot_minutes=45, end_time="10:00")], [], 400, "slot_not_dividing"),
        ([_template(start_time="12:00", end_time="09:00")], [], 400, "invalid_template"),
        ([_template(slot_minutes=3, end_time="09:15")], [], 400, "invalid_template"),
        ([_template(modes=["telepathy"])], [], 422, "invalid_request"),
        ([_template(weekday=7)], [], 422, "invalid_request"),
        ([_template(start_time="25:00")], [], 422, "invalid_request"),
        (
            [],
            [{"kind": "leave", "start_date": "2027-02-10", "end_date": "2027-02-01"}],
            400,
            "invalid_exception",
        ),
        (
            [],
            [{"kind": "leave", "start_date": "2027-01-01", "end_date": "2029-01-01"}],
            400,
            "invalid_exception",
        ),
        (
            [
                _template(weekday=d % 7, start_time=f"{d // 7:02d}:00", end_time=f"{d // 7:02d}:30")
                for d in range(60)
            ],
            [],
            400,
            "too_many_entries",
        ),
    ],
)
def test_bad_schedules_are_refused_and_keep_the_old_one(
    client: Client, templates: list[Any], exceptions: list[Any], status: int, code: str
) -> None:
    put(client, "/api/v1/doctors/me/profile", PROFILE)
    put(client, "/api/v1/doctors/me/schedule", WEEK)

    response = put(
        client, "/api/v1/doctors/me/schedule", {"templates": templates, "exceptions": exceptions}
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert WeeklyAvailability.objects.count() == 3
    assert ScheduleException.objects.count() == 1


def test_schedule_needs_a_profile_first(client: Client) -> None:
    response = put(client, "/api/v1/doctors/me/schedule", WEEK)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "profile_missing"


def test_presence_switches_online_and_offline(client: Client) -> None:
    put(client, "/api/v1/doctors/me/profile", PROFILE)

    online = client.post(
        "/api/v1/doctors/me/presence",
        {"status": "online", "queue_room": 3},
        content_type="application/json",
    )
    assert online.status_code == 200
    assert online.json()["status"] == "online"
    assert online.json()["queue_room"] == 3
    assert online.json()["last_seen"] is not None

    bad = client.post(
        "/api/v1/doctors/me/presence", {"status": "away"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert client.get("/api/v1/doctors/me/profile").json()["presence"]["status"] == "online"


def _image(fmt: str, size: tuple[int, int] = (800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def test_photo_is_reencoded_and_shrunk(client: Client, doctor: User) -> None:
    put(client, "/api/v1/doctors/me/profile", PROFILE)
    upload = io.BytesIO(_image("PNG"))
    upload.name = "me.png"

    response = client.post("/api/v1/doctors/me/profile/photo", {"photo": upload})

    assert response.status_code == 200
    stored = DoctorProfile.objects.get(user=doctor)
    assert stored.photo_type == "image/jpeg"
    with Image.open(io.BytesIO(bytes(stored.photo))) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 512


@pytest.mark.parametrize(
    "content",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"GIF89a" + b"\0" * 20,
        b"",
    ],
)
def test_photos_that_are_not_safe_images_are_refused(
    client: Client, doctor: User, content: bytes
) -> None:
    put(client, "/api/v1/doctors/me/profile", PROFILE)
    upload = io.BytesIO(content)
    upload.name = "me.svg"

    response = client.post("/api/v1/doctors/me/profile/photo", {"photo": upload})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_photo"
    assert DoctorProfile.objects.get(user=doctor).photo_type == ""


def test_oversized_photo_is_refused(client: Client) -> None:
    put(client, "/api/v1/doctors/me/profile", PROFILE)
    upload = io.BytesIO(b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024 + 1))
    upload.name = "big.jpg"
    response = client.post("/api/v1/doctors/me/profile/photo", {"photo": upload})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_photo"
