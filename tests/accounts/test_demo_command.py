import base64
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import totp_code_for
from yunyi.accounts.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRETS
from yunyi.accounts.models import GuardianLink, RealNameIdentity, RoleGrant, User
from yunyi.accounts.services import password_login, totp_login_verify

pytestmark = pytest.mark.django_db
DEMO_ROLES = {
    "patient1": ["patient"],
    "patient2": ["patient"],
    "guardian1": ["guardian", "patient"],
    "doctor1": ["doctor"],
    "doctor2": ["doctor"],
    "pharmacist1": ["pharmacist"],
    "operator1": ["operator"],
    "admin": ["admin"],
}


def _counts() -> tuple[int, ...]:
    return (
        User.objects.count(),
        RoleGrant.objects.count(),
        RealNameIdentity.objects.count(),
        GuardianLink.objects.count(),
        TOTPDevice.objects.count(),
    )


def test_demo_creates_the_demo_accounts_idempotently() -> None:
    out = StringIO()
    call_command("demo", stdout=out)
    first = _counts()
    call_command("demo", stdout=StringIO())
    assert _counts() == first  # a second run adds nothing (other apps' demo data included)
    accounts = User.objects.filter(username__in=DEMO_ROLES) | User.objects.filter(
        guardian_links__isnull=False
    )
    assert accounts.count() == 9  # the 8 demo accounts and guardian1's ward
    assert RoleGrant.objects.filter(user__in=accounts).count() == 10
    assert RealNameIdentity.objects.filter(user__in=accounts).count() == 4
    assert (GuardianLink.objects.count(), TOTPDevice.objects.count()) == (1, 5)

    for username, roles in DEMO_ROLES.items():
        user = User.objects.get(username=username)
        assert sorted(user.role_set()) == roles
        assert check_password(DEMO_PASSWORD, user.password)
    assert User.objects.get(username="doctor1").display_name == "张医生"
    assert sorted(
        RealNameIdentity.objects.filter(
            user__username__in=["patient1", "patient2", "guardian1"]
        ).values_list("user__username", "sex")
    ) == [("guardian1", "male"), ("patient1", "male"), ("patient2", "female")]
    link = GuardianLink.objects.get()
    assert link.guardian.username == "guardian1"
    assert link.ward.real_name.birth_date.year == 2021
    assert link.ward.has_usable_password() is False
    admin = User.objects.get(username="admin")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    table = out.getvalue()
    assert (
        "doctor1      张医生      doctor            Demo-2026!  " + DEMO_TOTP_SECRETS["doctor1"]
        in table
    )


def test_demo_staff_have_confirmed_totp_devices_with_the_published_secrets() -> None:
    call_command("demo", stdout=StringIO())
    assert sorted(DEMO_TOTP_SECRETS) == ["admin", "doctor1", "doctor2", "operator1", "pharmacist1"]
    assert len(set(DEMO_TOTP_SECRETS.values())) == 5
    for username, secret in DEMO_TOTP_SECRETS.items():
        device = TOTPDevice.objects.get(user__username=username)
        assert device.confirmed is True
        assert device.bin_key == base64.b32decode(secret)
    doctor = User.objects.get(username="doctor1")
    assert (
        password_login(identifier="doctor1", password=DEMO_PASSWORD, address="127.0.0.1") == doctor
    )
    totp_login_verify(
        user=doctor, code=totp_code_for(doctor.totpdevice_set.get()), address="127.0.0.1"
    )


def test_demo_secrets_are_fixed() -> None:
    assert DEMO_TOTP_SECRETS["doctor1"] == base64.b32encode(b"doctor1@yunyi-demo..").decode()


def test_demo_refuses_to_run_in_production(settings: Any) -> None:
    settings.YUNYI_ENV = "production"
    with pytest.raises(CommandError, match="refuses to run with YUNYI_ENV=production"):
        call_command("demo", stdout=StringIO())
    assert _counts() == (0, 0, 0, 0, 0)


def test_demo_cli_exits_non_zero_in_production(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUNYI_")}
    env.update({"YUNYI_ENV": "production", "YUNYI_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    done = subprocess.run(
        [str(Path(sys.executable).parent / "yunyi"), "demo"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "yunyi demo refuses to run with YUNYI_ENV=production" in done.stderr
    assert not (tmp_path / "x.sqlite3").exists() or (tmp_path / "x.sqlite3").stat().st_size == 0
