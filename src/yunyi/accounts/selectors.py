"""Reading accounts: the signed-in user's view of themselves, real-name facts, guardianship."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import FilteredRelation, Q

from yunyi.accounts.models import GuardianLink, RealNameIdentity, User
from yunyi.accounts.services import mfa_required
from yunyi.core.compiled_query import CompiledQuery
from yunyi.privacy.fields import decrypt_field


@dataclass(frozen=True)
class RealNameView:
    legal_name: str
    resident_id_masked: str
    birth_date: date
    sex: str
    verified_at: datetime


@dataclass(frozen=True)
class MfaView:
    totp_enabled: bool
    required: bool


@dataclass(frozen=True)
class MeView:
    id: str
    username: str
    display_name: str
    email: str | None
    phone: str | None
    roles: list[str]
    preferred_language: str
    real_name: RealNameView | None
    mfa: MfaView


@dataclass(frozen=True)
class WardView:
    id: str
    legal_name: str
    resident_id_masked: str
    birth_date: date
    sex: str
    relationship: str


def real_name_of(*, user: User) -> RealNameView | None:
    identity = RealNameIdentity.objects.filter(user=user).first()
    if identity is None:
        return None
    return RealNameView(
        legal_name=identity.legal_name,
        resident_id_masked=identity.resident_id_masked,
        birth_date=identity.birth_date,
        sex=identity.sex,
        verified_at=identity.verified_at,
    )


# What /me shows beyond the user row and roles (which bearer authentication has already read):
# the real-name facts and whether a TOTP device is confirmed (one row per confirmed device, or one
# row with None). Compiled once: /me is a hot path.
_ME_FACTS = CompiledQuery(
    lambda user_id: (
        User.objects.filter(pk=user_id)
        .annotate(
            confirmed_totp=FilteredRelation("totpdevice", condition=Q(totpdevice__confirmed=True))
        )
        .values_list(
            "real_name__legal_name",
            "real_name__resident_id_masked",
            "real_name__birth_date",
            "real_name__sex",
            "real_name__verified_at",
            "confirmed_totp__id",
        )
    ),
    parameters=[User._meta.pk],  # type: ignore[list-item]
)


def me_view(*, user: User) -> MeView:
    """The signed-in user's view of themselves: one query, plus one for the roles unless they
    are already known (bearer authentication reads them with the token)."""
    facts = _ME_FACTS.rows(user.pk)
    row = facts[0] if facts else {}
    real_name = None
    if row.get("real_name__verified_at") is not None:
        real_name = RealNameView(
            legal_name=row["real_name__legal_name"],
            resident_id_masked=row["real_name__resident_id_masked"],
            birth_date=row["real_name__birth_date"],
            sex=row["real_name__sex"],
            verified_at=row["real_name__verified_at"],
        )
    totp_enabled = row.get("confirmed_totp__id") is not None
    return MeView(
        id=str(user.pk),
        username=user.get_username(),
        display_name=user.display_name,
        email=user.email,
        phone=user.phone,
        roles=sorted(user.role_set()),
        preferred_language=user.preferred_language,
        real_name=real_name,
        mfa=MfaView(
            totp_enabled=totp_enabled,
            required=mfa_required(user=user, totp_enabled=totp_enabled),
        ),
    )


def wards_of(*, guardian: User) -> list[WardView]:
    links = (
        GuardianLink.objects.filter(guardian=guardian)
        .select_related("ward__real_name")
        .order_by("created_at", "pk")
    )
    return [ward_view(link=link) for link in links]


def ward_view(*, link: GuardianLink) -> WardView:
    identity = link.ward.real_name
    return WardView(
        id=str(link.ward_id),
        legal_name=identity.legal_name,
        resident_id_masked=identity.resident_id_masked,
        birth_date=identity.birth_date,
        sex=identity.sex,
        relationship=link.relationship,
    )


def is_guardian_of(*, guardian: User, ward: User) -> bool:
    return GuardianLink.objects.filter(guardian=guardian, ward=ward).exists()


def birth_date_of(*, user: User) -> date | None:
    return RealNameIdentity.objects.filter(user=user).values_list("birth_date", flat=True).first()


def resident_id_of(*, user: User) -> str | None:
    """The full number, decrypted. Only for purposes that need it (e.g. a regulator report);
    everything shown to people uses the masked form."""
    identity = RealNameIdentity.objects.filter(user=user).first()
    if identity is None:
        return None
    return decrypt_field(
        bytes(identity.resident_id_ciphertext),
        associated_data=identity.resident_id_associated_data(),
    )
