"""Accounts API: sign-up, the signed-in user, real-name verification, MFA enrolment."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: str
    username: str
    display_name: str
    roles: list[str]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(id=str(user.pk), username=user.get_username(), display_name=getattr(user, "display_name", ""),
                 roles=sorted(user.role_set()))  # type: ignore[union-attr]
