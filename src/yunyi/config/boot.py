"""Refuse to serve when the system checks find errors (production safety, models, settings)."""

from __future__ import annotations

from django.core import checks
from django.core.management.base import SystemCheckError


def refuse_unsafe_boot() -> None:
    messages = checks.run_checks(include_deployment_checks=False)
    errors = [m for m in messages if m.is_serious()]
    if errors:
        raise SystemCheckError("Refusing to start:\n" + "\n".join(str(e) for e in errors))
