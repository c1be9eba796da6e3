"""`yunyi demo`: load the demo accounts (idempotent). Refuses to run in production.

Every demo account has the password ``Demo-2026!``; staff accounts get a confirmed TOTP device
with a fixed, published secret (`DEMO_TOTP_SECRETS`), so anyone trying the demo can sign in.
"""

from __future__ import annotations

import importlib
from base64 import b32decode, b32encode
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunyi.accounts.models import (
    GuardianLink,
    GuardianRelationship,
    RealNameIdentity,
    RoleGrant,
    User,
)
from yunyi.accounts.resident_id import build_resident_id
from yunyi.accounts.roles import STAFF_ROLES, Role
from yunyi.accounts.services import real_name_verify, ward_create
from yunyi.audit.services import AuditContext

DEMO_PASSWORD = "Demo-2026!"


def demo_totp_secret(username: str) -> str:
    """Base32 of the fixed 20-byte string ``"<username>@yunyi-demo"`` padded with dots, e.g.
    doctor1 -> base32(b"doctor1@yunyi-demo.."). Published on purpose: demo only."""
    seed = f"{username}@yunyi-demo".encode().ljust(20, b".")[:20]
    return b32encode(seed).decode("ascii")


@dataclass(frozen=True)
class DemoIdentity:
    legal_name: str
    region_code: str
    birth_date: date
    sequence: int

    @property
    def resident_id(self) -> str:
        return build_resident_id(
            region_code=self.region_code, birth_date=self.birth_date, sequence=self.sequence
        )


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    identity: DemoIdentity | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "patient1", "李明", (Role.PATIENT,), DemoIdentity("李明", "110101", date(1985, 3, 12), 123)
    ),
    DemoUser(
        "patient2", "王芳", (Role.PATIENT,), DemoIdentity("王芳", "310101", date(1992, 8, 25), 246)
    ),
    DemoUser(
        "guardian1",
        "赵强",
        (Role.PATIENT, Role.GUARDIAN),
        DemoIdentity("赵强", "440103", date(1983, 11, 2), 357),
    ),
    DemoUser("doctor1", "张医生", (Role.DOCTOR,)),
    DemoUser("doctor2", "王医生", (Role.DOCTOR,)),
    DemoUser("pharmacist1", "刘药师", (Role.PHARMACIST,)),
    DemoUser("operator1", "陈运营", (Role.OPERATOR,)),
    DemoUser("admin", "系统管理员", (Role.ADMIN,)),
)
DEMO_WARD = DemoIdentity("赵小宝", "440103", date(2021, 5, 20), 468)
DEMO_TOTP_SECRETS: dict[str, str] = {
    user.username: demo_totp_secret(user.username)
    for user in DEMO_USERS
    if set(user.roles) & STAFF_ROLES
}
_CONTEXT = AuditContext(client_id="yunyi-demo")


class Command(BaseCommand):
    help = "Create or refresh the demo accounts (refused when YUNYI_ENV=production)."
    # Checked by hand after the production refusal, so production gets that clear message first.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.YUNYI_ENV == "production":
            raise CommandError(
                "yunyi demo refuses to run with YUNYI_ENV=production: it creates accounts "
                "with published passwords and TOTP secrets."
            )
        self.check()
        with transaction.atomic():
            users = {spec.username: self._user(spec) for spec in DEMO_USERS}
            self._ward(users["guardian1"])
        self._load_app_demos(users)
        if "setup-web-client" in get_commands():
            call_command("setup-web-client", stdout=self.stdout, stderr=self.stderr)
        self._print_table()

    def _load_app_demos(self, users: dict[str, User]) -> None:
        """Each installed app may ship `<app>/demo.py` with `demo_load(users, stdout)`; they run
        in INSTALLED_APPS order, so an app's demo data can build on the apps it depends on."""
        for config in apps.get_app_configs():
            if not config.name.startswith("yunyi.") or config.name == "yunyi.accounts":
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            loader = getattr(module, "demo_load", None)
            if callable(loader):
                loader(users, self.stdout)

    def _user(self, spec: DemoUser) -> User:
        user, _created = User.objects.get_or_create(username=spec.username)
        user.display_name = spec.display_name
        user.email = f"{spec.username}@example.com"
        user.is_active = True
        user.is_staff = user.is_superuser = Role.ADMIN in spec.roles
        user.set_password(DEMO_PASSWORD)
        user.save()
        for role in spec.roles:
            RoleGrant.objects.get_or_create(user=user, role=role)
        if spec.identity is not None and not RealNameIdentity.objects.filter(user=user).exists():
            real_name_verify(
                user=user,
                legal_name=spec.identity.legal_name,
                resident_id=spec.identity.resident_id,
                context=_CONTEXT,
            )
        secret = DEMO_TOTP_SECRETS.get(spec.username)
        if secret is not None:
            self._totp(user, secret)
        return user

    def _totp(self, user: User, secret: str) -> None:
        key = b32decode(secret).hex()
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
        if device is None:
            device = TOTPDevice(user=user, name="Demo", confirmed=True)
        if device.key != key:
            # A new secret starts a new sequence of time steps.
            device.key = key
            device.last_t = -1
        device.save()
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()

    def _ward(self, guardian: User) -> None:
        if GuardianLink.objects.filter(guardian=guardian).exists():
            return
        ward_create(
            guardian=guardian,
            legal_name=DEMO_WARD.legal_name,
            resident_id=DEMO_WARD.resident_id,
            relationship=GuardianRelationship.PARENT,
            context=_CONTEXT,
        )

    def _print_table(self) -> None:
        rows = [("username", "name", "roles", "password", "TOTP secret")]
        rows += [
            (
                spec.username,
                spec.display_name,
                ",".join(spec.roles),
                DEMO_PASSWORD,
                DEMO_TOTP_SECRETS.get(spec.username, "-"),
            )
            for spec in DEMO_USERS
        ]
        widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
        self.stdout.write("Demo accounts (demo only: these secrets are public):")
        for row in rows:
            cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
            self.stdout.write("  " + "  ".join(cells).rstrip())


def _width(text: str) -> int:
    # CJK characters take two terminal columns.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
