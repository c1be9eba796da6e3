"""Demo doctors (`yunyi demo`): doctor1 and doctor2 verified with full profiles and weekly
schedules, ~200 generated verified doctors around real Chinese cities (accounts that cannot sign
in), and three applicants whose licences wait in the administrators' review queue.

Idempotent: existing rows are kept (a demo user's own edits survive the next `make run`);
generated doctors are bulk-inserted once.
"""

from __future__ import annotations

import hashlib
import random
from datetime import time
from typing import Any, Final, TextIO

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from yunyi.accounts.models import RoleGrant, User
from yunyi.accounts.roles import Role
from yunyi.audit.services import AuditContext
from yunyi.practitioners import services
from yunyi.practitioners.departments import DEPARTMENTS
from yunyi.practitioners.models import (
    DoctorProfile,
    Licence,
    LicenceDocument,
    LicenceStatus,
    Presence,
    PresenceStatus,
    Title,
    WeeklyAvailability,
    licence_number_associated_data,
)
from yunyi.practitioners.services import (
    LICENCE_NUMBER_PURPOSE,
    ProfileInput,
    TemplateInput,
)
from yunyi.privacy.fields import blind_index, encrypt_field

_CONTEXT: Final = AuditContext(client_id="yunyi-demo", actor_role="admin")
GENERATED: Final = 200
APPLICANTS: Final = 3
SEED: Final = 20261126

# (name, 中文名, lat, lon, weight ~ population in millions); from public city-centre coordinates.
CITIES: Final = (
    ("Shanghai", "上海", 31.2304, 121.4737, 24.9),
    ("Beijing", "北京", 39.9042, 116.4074, 21.9),
    ("Guangzhou", "广州", 23.1291, 113.2644, 18.7),
    ("Shenzhen", "深圳", 22.5431, 114.0579, 17.6),
    ("Chongqing", "重庆", 29.5630, 106.5516, 16.0),
    ("Chengdu", "成都", 30.5728, 104.0668, 16.3),
    ("Tianjin", "天津", 39.3434, 117.3616, 13.9),
    ("Xi'an", "西安", 34.3416, 108.9398, 12.9),
    ("Wuhan", "武汉", 30.5928, 114.3055, 12.4),
    ("Hangzhou", "杭州", 30.2741, 120.1551, 12.2),
    ("Nanjing", "南京", 32.0603, 118.7969, 9.3),
    ("Suzhou", "苏州", 31.2989, 120.5853, 12.7),
)
# A one-page PDF standing in for a certificate scan, so reviewers have a file to open.
DEMO_SCAN: Final = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 420 200]/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 62>>stream\nBT /F1 18 Tf 40 100 Td (Demo practising certificate) Tj ET\n"
    b"endstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
_SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN: Final = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰"

DEMO_DOCTORS: Final[dict[str, dict[str, Any]]] = {
    "doctor1": {
        "display_name": "张医生",
        "title": Title.CHIEF,
        "department": "endocrinology",
        "hospital": "上海交通大学医学院附属瑞金医院",
        "practice_address": "上海市黄浦区瑞金二路197号",
        "city": "上海",
        "latitude": 31.2119,
        "longitude": 121.4686,
        "languages": ["zh", "en"],
        "fees": {"video": 5000, "text": 2000, "in_person": 8000, "home_visit": 30000},
        "service_radius_km": 15.0,
        "daily_capacity": 30,
        "gender": "male",
        "bio": "内分泌科主任医师，擅长糖尿病、甲状腺疾病的诊治与长期随访。",
        "number": "131310000100001",
    },
    "doctor2": {
        "display_name": "王医生",
        "title": Title.ASSOCIATE_CHIEF,
        "department": "cardiology",
        "hospital": "首都医科大学附属北京安贞医院",
        "practice_address": "北京市朝阳区安贞路2号",
        "city": "北京",
        "latitude": 39.9732,
        "longitude": 116.4040,
        "languages": ["zh"],
        "fees": {"video": 4000, "text": 1500, "in_person": 6000},
        "service_radius_km": 10.0,
        "daily_capacity": 25,
        "gender": "female",
        "bio": "心血管内科副主任医师，专注高血压、冠心病的规范治疗与康复管理。",
        "number": "111100000200002",
    },
}


def _week(
    days: range | tuple[int, ...], start: str, end: str, minutes: int, modes: tuple[str, ...]
) -> list[TemplateInput]:
    return [
        TemplateInput(d, time.fromisoformat(start), time.fromisoformat(end), minutes, modes)
        for d in days
    ]


def _demo_schedule() -> list[TemplateInput]:
    return [
        *_week(range(5), "09:00", "12:00", 30, ("video", "text")),
        *_week((0, 2, 4), "14:00", "17:00", 30, ("in_person",)),
        *_week((1, 3), "14:00", "16:00", 60, ("home_visit", "in_person")),
        *_week((5,), "09:00", "11:00", 20, ("video",)),
    ]


def demo_load(users: dict[str, User], stdout: TextIO) -> None:
    admin = users["admin"]
    for username, spec in DEMO_DOCTORS.items():
        _demo_doctor(users[username], admin, dict(spec))
    created = _generated_doctors(admin)
    stdout.write(
        f"Doctors: doctor1 and doctor2 verified; {created} generated doctors added "
        f"({DoctorProfile.objects.filter(is_verified=True).count()} verified in all)."
    )


def _demo_doctor(user: User, admin: User, spec: dict[str, Any]) -> None:
    number = spec.pop("number")
    profile = DoctorProfile.objects.filter(user=user).first()
    if profile is None:
        profile = services.profile_save(user=user, data=ProfileInput(**spec))
    if not WeeklyAvailability.objects.filter(profile=profile).exists():
        services.schedule_replace(user=user, templates=_demo_schedule(), exceptions=[])
    if not Licence.objects.filter(doctor=user).exists():
        licence = services.licence_submit(user=user, number=number, documents=[], context=_CONTEXT)
        services.licence_decide(
            reviewer=admin,
            licence_id=str(licence.id),
            decision="verify",
            reason="",
            context=_CONTEXT,
        )
    # Online on the first run only: a later run keeps what the demo doctor chose.
    Presence.objects.filter(profile=profile, last_seen__isnull=True).update(
        status=PresenceStatus.ONLINE, last_seen=timezone.now()
    )


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.choice((1, 2))))


def _generated_doctors(admin: User) -> int:
    """Bulk-insert the generated doctors that do not exist yet; returns how many were added."""
    rng = random.Random(SEED)  # noqa: S311  (repeatable demo data, not secrets)
    wanted = [f"demo-doctor-{i:03d}" for i in range(GENERATED)]
    wanted += [f"demo-applicant-{i}" for i in range(1, APPLICANTS + 1)]
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    departments = list(DEPARTMENTS)
    weights = [c[4] for c in CITIES]
    unusable = make_password(None)
    now = timezone.now()
    users: list[User] = []
    profiles: list[DoctorProfile] = []
    licences: list[Licence] = []
    templates: list[WeeklyAvailability] = []
    documents: list[LicenceDocument] = []
    for i, username in enumerate(wanted):
        # Draw for every doctor, created or not, so each keeps its values across runs.
        city = rng.choices(CITIES, weights=weights)[0]
        name = _name(rng)
        lat = city[2] + rng.gauss(0, 0.12)
        lon = city[3] + rng.gauss(0, 0.12)
        modes = rng.sample(["video", "text", "in_person", "home_visit"], k=rng.randint(1, 4))
        fees = {m: rng.choice((1000, 2000, 3000, 5000, 8000)) for m in modes}
        department = rng.choice(departments)
        title = rng.choice(list(Title))
        rating = round(rng.uniform(3.5, 5.0), 2)
        count = rng.randint(0, 800)
        capacity = rng.choice((10, 20, 30, 40))
        radius = float(rng.choice((5, 10, 20, 30)))
        gender = rng.choice(("female", "male"))
        langs = ["zh", "en"] if rng.random() < 0.25 else ["zh"]
        first_day = rng.randint(0, 2)
        if username in existing:
            continue
        applicant = username.startswith("demo-applicant")
        user = User(username=username, display_name=f"{name}医生", password=unusable)
        users.append(user)
        profile = DoctorProfile(
            user=user,
            display_name=f"{name}医生",
            title=title,
            department=department,
            hospital=f"{city[1]}市第{rng.randint(1, 9)}人民医院",
            practice_address=f"{city[1]}市",
            city=city[1],
            latitude=round(lat, 5),
            longitude=round(lon, 5),
            languages=langs,
            **{f"fee_{m}": fee for m, fee in fees.items()},
            service_radius_km=radius,
            rating_mean=None if count == 0 else rating,
            rating_count=count,
            daily_capacity=capacity,
            gender=gender,
            is_verified=not applicant,
        )
        profiles.append(profile)
        number = f"{44 + i % 20}{i:013d}"
        licence = Licence(
            doctor=user,
            number_index=blind_index(number, purpose=LICENCE_NUMBER_PURPOSE),
            number_masked=services.mask_licence_number(number),
            status=LicenceStatus.PENDING if applicant else LicenceStatus.VERIFIED,
            submitted_at=now,
            reviewed_by=None if applicant else admin,
            reviewed_at=None if applicant else now,
        )
        licence.number_ciphertext = encrypt_field(
            number, associated_data=licence_number_associated_data(licence_id=str(licence.id))
        )
        licences.append(licence)
        if applicant:
            documents.append(
                LicenceDocument(
                    licence=licence,
                    content_type="application/pdf",
                    content=DEMO_SCAN,
                    size=len(DEMO_SCAN),
                    sha256=hashlib.sha256(DEMO_SCAN).hexdigest(),
                )
            )
        for day in range(first_day, 5 + first_day):
            templates.append(
                WeeklyAvailability(
                    profile=profile,
                    weekday=day % 7,
                    start_time=time(9),
                    end_time=time(12),
                    slot_minutes=30,
                    modes=sorted(modes),
                )
            )
    if not users:
        return 0
    with transaction.atomic():
        User.objects.bulk_create(users)
        RoleGrant.objects.bulk_create(RoleGrant(user=u, role=Role.DOCTOR) for u in users)
        DoctorProfile.objects.bulk_create(profiles)
        Presence.objects.bulk_create(Presence(profile=p) for p in profiles)
        Licence.objects.bulk_create(licences)
        WeeklyAvailability.objects.bulk_create(templates)
        LicenceDocument.objects.bulk_create(documents)
    return len(users)
