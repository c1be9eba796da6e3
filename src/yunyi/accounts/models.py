"""Users, their roles and identity attributes."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from yunyi.accounts.roles import STAFF_ROLES, Role


class User(AbstractUser):
    """A person who signs in (or, for a ward, is acted for by a guardian).

    The primary key is a random UUID: it is the OpenID Connect `sub` and appears in URLs, so it
    must not reveal how many users there are.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("e-mail"), unique=True, null=True, blank=True)  # type: ignore[assignment]
    phone = models.CharField(_("phone"), max_length=20, unique=True, null=True, blank=True)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    preferred_language = models.CharField(max_length=10, default="zh-hans")

    def role_set(self) -> frozenset[str]:
        cached: frozenset[str] | None = getattr(self, "_role_cache", None)
        if cached is None:
            cached = frozenset(self.role_grants.values_list("role", flat=True))
            self._role_cache = cached
        return cached

    def has_role(self, role: str) -> bool:
        return role in self.role_set()

    @property
    def is_staff_role(self) -> bool:
        return bool(self.role_set() & STAFF_ROLES)


class RoleGrant(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="uniq_role_per_user")]

    def __str__(self) -> str:
        return f"{self.role}"


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class RealNameIdentity(models.Model):
    """A user's verified legal identity. The resident ID number is stored only encrypted
    (`resident_id_ciphertext`, AES-GCM bound to this row) plus a keyed blind index that makes it
    unique; what is ever shown is `resident_id_masked`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="real_name",
    )
    legal_name = models.CharField(_("legal name"), max_length=64)
    resident_id_ciphertext = models.BinaryField(editable=False)
    resident_id_index = models.CharField(max_length=64, unique=True, editable=False)
    resident_id_masked = models.CharField(_("resident ID (masked)"), max_length=18)
    birth_date = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    verified_at = models.DateTimeField(_("verified at"))

    class Meta:
        verbose_name = _("real-name identity")
        verbose_name_plural = _("real-name identities")

    def __str__(self) -> str:
        return self.resident_id_masked

    def resident_id_associated_data(self) -> bytes:
        return resident_id_associated_data(user_id=str(self.user_id))


def resident_id_associated_data(*, user_id: str) -> bytes:
    # Binds each ciphertext to its owner: copied onto another row it no longer decrypts.
    return f"accounts.RealNameIdentity.resident_id:{user_id}".encode()


class GuardianRelationship(models.TextChoices):
    PARENT = "parent", _("Parent")
    LEGAL_GUARDIAN = "legal_guardian", _("Legal guardian")
    OTHER = "other", _("Other")


class GuardianLink(models.Model):
    """A guardian acts for a ward: a minor whose account has no password of its own."""

    guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ward_links"
    )
    ward = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guardian_links"
    )
    relationship = models.CharField(max_length=20, choices=GuardianRelationship.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("guardian link")
        verbose_name_plural = _("guardian links")
        constraints = [
            models.UniqueConstraint(fields=["guardian", "ward"], name="uniq_guardian_ward"),
            models.CheckConstraint(
                condition=~models.Q(guardian=models.F("ward")), name="guardian_not_own_ward"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.relationship}: {self.guardian_id} -> {self.ward_id}"


class SignupChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")


class SignupChallenge(models.Model):
    """A one-time code sent to a phone number or e-mail address to confirm a sign-up. Only a
    keyed hash of the code is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=5, choices=SignupChannel.choices)
    address = models.CharField(max_length=254, db_index=True)
    code_hash = models.CharField(max_length=128)
    requested_from = models.CharField(max_length=45, blank=True, db_index=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.channel} sign-up {self.id}"


class ThrottleScope(models.TextChoices):
    ACCOUNT = "account"
    ADDRESS = "address"


class LoginThrottle(models.Model):
    """Failed sign-in attempts against one account (or unknown identifier) or from one source
    address. `key_hash` is a keyed hash, so the table holds no identifiers or addresses."""

    scope = models.CharField(max_length=7, choices=ThrottleScope.choices)
    key_hash = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    next_allowed_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_hash"], name="uniq_login_throttle_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key_hash[:12]}: {self.failures} failure(s)"
