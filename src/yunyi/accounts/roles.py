"""The roles a user may hold (several at once)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PATIENT = "patient", _("Patient")
    GUARDIAN = "guardian", _("Guardian")
    DOCTOR = "doctor", _("Doctor")
    PHARMACIST = "pharmacist", _("Pharmacist")
    OPERATOR = "operator", _("Operator")
    ADMIN = "admin", _("Administrator")


# Staff roles must sign in with a second factor (TOTP).
STAFF_ROLES: frozenset[str] = frozenset({Role.DOCTOR, Role.PHARMACIST, Role.OPERATOR, Role.ADMIN})
