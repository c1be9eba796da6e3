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
    email = models.EmailField(_("e-mail"), unique=True, null=True, blank=True)
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
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="uniq_role_per_user")]

    def __str__(self) -> str:
        return f"{self.role}"
