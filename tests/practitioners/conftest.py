"""Doctors built through the real services: a profile, a licence, an administrator's decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

import pytest

from yunyi.accounts.models import User
from yunyi.audit.services import AuditContext
from yunyi.practitioners import services
from yunyi.practitioners.services import ProfileInput, TemplateInput

CONTEXT = AuditContext(client_id="pytest")
_numbers = iter(range(10_000_000, 99_999_999))


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user(roles=["admin"])


@pytest.fixture
def make_doctor(make_user: Callable[..., User], admin_user: User) -> Callable[..., User]:
    """`make_doctor(status="verified", department="cardiology", lat=31.23, lon=121.47,
    fees={"video": 3000}, templates=[...], **profile fields)` → the doctor User.

    `status` is the licence's: None (no licence), "pending", "verified", "rejected",
    "suspended"."""

    def make(
        *,
        status: str | None = "verified",
        department: str = "cardiology",
        lat: float | None = 31.2304,
        lon: float | None = 121.4737,
        fees: dict[str, int] | None = None,
        templates: list[TemplateInput] | None = None,
        **fields: Any,
    ) -> User:
        doctor = make_user(roles=["doctor"])
        data = {
            "display_name": "测试医生",
            "title": "attending",
            "department": department,
            "latitude": lat,
            "longitude": lon,
            "fees": {"video": 3000, "in_person": 5000} if fees is None else fees,
            "service_radius_km": 10.0,
            "languages": ["zh"],
            **fields,
        }
        services.profile_save(user=doctor, data=ProfileInput(**data))
        if templates is not None:
            services.schedule_replace(user=doctor, templates=templates, exceptions=[])
        if status is None:
            return doctor
        licence = services.licence_submit(
            user=doctor, number=f"11{next(_numbers)}00", documents=[], context=CONTEXT
        )
        steps = {
            "pending": [],
            "verified": ["verify"],
            "rejected": ["reject"],
            "suspended": ["verify", "suspend"],
        }[status]
        for decision in steps:
            services.licence_decide(
                reviewer=admin_user,
                licence_id=str(licence.id),
                decision=decision,
                reason="test",
                context=CONTEXT,
            )
        return doctor

    return make


def weekday_template(
    weekday: int,
    start: str = "09:00",
    end: str = "12:00",
    minutes: int = 30,
    modes: tuple[str, ...] = ("video", "in_person"),
) -> TemplateInput:
    return TemplateInput(
        weekday=weekday,
        start_time=time.fromisoformat(start),
        end_time=time.fromisoformat(end),
        slot_minutes=minutes,
        modes=modes,
    )


def every_day(**kwargs: Any) -> list[TemplateInput]:
    return [weekday_template(d, **kwargs) for d in range(7)]
