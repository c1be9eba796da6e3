"""Fixtures of the matching tests: verified doctors made through the practitioners services (never
their tables), and a fresh process-wide doctor index per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import time
from typing import Any

import pytest

from yunyi.accounts.models import User
from yunyi.audit.services import AuditContext
from yunyi.matching import selectors

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
ALL_DAY = (time(0, 0), time(23, 30))


@pytest.fixture(autouse=True)
def fresh_index(settings: Any) -> Iterator[None]:
    settings.MATCHING_INDEX_REFRESH_SECONDS = 0
    selectors.live_index.cache_clear()
    yield
    selectors.live_index.cache_clear()


@pytest.fixture
def verified_doctor(make_user: Any) -> Callable[..., User]:
    """`verified_doctor(lat=, lon=, department=, modes=, radius_km=, capacity=, ...)`: a doctor
    with a complete profile, a schedule of 30-minute slots all day every day in those modes, and
    a licence an administrator verified."""
    from yunyi.practitioners import services as practitioners

    admin = make_user(roles=["admin"])
    counter = iter(range(1, 10_000))

    def make(
        *,
        lat: float = 31.2304,
        lon: float = 121.4737,
        department: str = "cardiology",
        modes: tuple[str, ...] = ("video", "home_visit"),
        radius_km: float = 20.0,
        capacity: int = 8,
        name: str = "王医生",
        languages: tuple[str, ...] = ("zh",),
        gender: str = "female",
        verify: bool = True,
        online: bool = False,
    ) -> User:
        user: User = make_user(roles=["doctor"])
        practitioners.profile_save(
            user=user,
            data=practitioners.ProfileInput(
                display_name=name,
                title="attending",
                department=department,
                hospital="上海市第一人民医院",
                city="上海",
                latitude=lat,
                longitude=lon,
                languages=languages,
                fees={mode: 5000 for mode in modes},
                service_radius_km=radius_km,
                daily_capacity=capacity,
                gender=gender,
            ),
        )
        practitioners.schedule_replace(
            user=user,
            templates=[practitioners.TemplateInput(day, *ALL_DAY, 30, modes) for day in range(7)],
            exceptions=[],
        )
        if online:
            practitioners.presence_set(user=user, status="online", queue_room=5)
        context = AuditContext(client_id="pytest")
        licence = practitioners.licence_submit(
            user=user,
            number=f"110{next(counter):08d}",
            documents=[practitioners.DocumentInput("image/png", PNG)],
            context=context,
        )
        if verify:
            practitioners.licence_decide(
                reviewer=admin,
                licence_id=str(licence.pk),
                decision="verify",
                reason="",
                context=context,
            )
        return user

    return make
