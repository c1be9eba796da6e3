"""A production boot is refused unless it is safely configured (`yunyi.core.checks`). Each case
runs the real `yunyi check`, or imports the real WSGI/ASGI application, in a subprocess whose
environment is a complete production configuration with one thing wrong."""

import re
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.base import SystemCheckError
from django.test import override_settings

from tests.core.production_env import BIN, production_env, rsa_pem, run, yunyi
from yunyi.config.boot import refuse_unsafe_boot

MESSAGE_ID = re.compile(r"\(yunyi\.E\d{3}\)")

UNSAFE: dict[str, tuple[dict[str, str | None], str]] = {
    "debug_on": ({"DEBUG": "1"}, "yunyi.E001"),
    "secret_key_missing": ({"SECRET_KEY": None}, "yunyi.E002"),
    "secret_key_empty": ({"SECRET_KEY": ""}, "yunyi.E002"),
    "secret_key_default": ({"SECRET_KEY": "changeme"}, "yunyi.E002"),
    "secret_key_django_insecure": ({"SECRET_KEY": "django-insecure-" + "x" * 50}, "yunyi.E002"),
    "secret_key_short": ({"SECRET_KEY": "k" * 39}, "yunyi.E002"),
    "field_keys_missing": ({"FIELD_KEYS": None}, "yunyi.E003"),
    "blind_index_key_missing": ({"BLIND_INDEX_KEY": None}, "yunyi.E003"),
    "field_keys_not_base64": ({"FIELD_KEYS": "k1:not-base64!"}, "yunyi.E008"),
    "field_key_wrong_size": ({"FIELD_KEYS": "k1:" + "QUJD" * 4}, "yunyi.E008"),
    "allowed_hosts_unset": ({"ALLOWED_HOSTS": None}, "yunyi.E004"),
    "allowed_hosts_empty": ({"ALLOWED_HOSTS": ""}, "yunyi.E004"),
    "allowed_hosts_wildcard": ({"ALLOWED_HOSTS": "yunyi.example.org,*"}, "yunyi.E004"),
    "audit_disabled": ({"AUDIT_ENABLED": "false"}, "yunyi.E005"),
    "oidc_key_missing": ({"OIDC_PRIVATE_KEY_FILE": None}, "yunyi.E006"),
    "oidc_key_not_pem": (
        {"OIDC_PRIVATE_KEY_FILE": None, "OIDC_PRIVATE_KEY": "not a key"},
        "yunyi.E009",
    ),
    "base_url_unset": ({"BASE_URL": None}, "yunyi.E007"),
    "base_url_http": ({"BASE_URL": "http://yunyi.example.org"}, "yunyi.E007"),
}


def _ids(output: str) -> list[str]:
    return [match.strip("()") for match in MESSAGE_ID.findall(output)]


def test_fully_configured_production_passes_the_check(tmp_path: Path) -> None:
    done = yunyi(production_env(tmp_path), tmp_path, "check")
    # Warnings (e.g. no real SMS sender configured yet) do not stop a boot; errors do.
    assert (done.returncode, _ids(done.stderr)) == (0, [])
    assert "ERRORS:" not in done.stderr


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_check_refuses_unsafe_production(case: str, tmp_path: Path) -> None:
    overrides, message_id = UNSAFE[case]
    done = yunyi(production_env(tmp_path, **overrides), tmp_path, "check")
    assert done.returncode == 1
    assert _ids(done.stderr) == [message_id]
    assert "SystemCheckError" in done.stderr


def test_check_refuses_a_weak_oidc_key(tmp_path: Path) -> None:
    weak = tmp_path / "weak.pem"
    weak.write_text(rsa_pem(bits=1024))
    done = yunyi(production_env(tmp_path, OIDC_PRIVATE_KEY_FILE=str(weak)), tmp_path, "check")
    assert (done.returncode, _ids(done.stderr)) == (1, ["yunyi.E009"])
    assert "at least 2048 bits, this one has 1024" in done.stderr


def test_check_reports_every_problem_at_once(tmp_path: Path) -> None:
    env = production_env(
        tmp_path,
        DEBUG="on",
        SECRET_KEY=None,
        FIELD_KEYS=None,
        ALLOWED_HOSTS="*",
        AUDIT_ENABLED="0",
        OIDC_PRIVATE_KEY_FILE=None,
        BASE_URL=None,
    )
    done = yunyi(env, tmp_path, "check")
    assert done.returncode == 1
    assert _ids(done.stderr) == [f"yunyi.E00{n}" for n in range(1, 8)]


def test_demo_and_test_modes_are_not_held_to_production_rules(tmp_path: Path) -> None:
    env = production_env(tmp_path, ENV="demo", DEBUG="1", ALLOWED_HOSTS=None, BASE_URL=None)
    done = yunyi(env, tmp_path, "check")
    assert (done.returncode, _ids(done.stderr)) == (0, [])


@pytest.mark.parametrize("module", ["yunyi.config.wsgi", "yunyi.config.asgi"])
def test_application_refuses_to_load_in_unsafe_production(module: str, tmp_path: Path) -> None:
    env = production_env(tmp_path, DEBUG="1")
    done = run([sys.executable, "-c", f"import {module}"], env, tmp_path)
    assert done.returncode == 1
    assert "Refusing to start" in done.stderr
    assert _ids(done.stderr) == ["yunyi.E001"]


@pytest.mark.parametrize("module", ["yunyi.config.wsgi", "yunyi.config.asgi"])
def test_application_loads_in_safe_production(module: str, tmp_path: Path) -> None:
    done = run(
        [sys.executable, "-c", f"import {module}; print('loaded')"],
        production_env(tmp_path),
        tmp_path,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "loaded\n", "")


def test_uvicorn_does_not_serve_an_unsafe_production(tmp_path: Path) -> None:
    argv = [
        str(BIN / "uvicorn"),
        "yunyi.config.asgi:application",
        "--port",
        "0",
        "--log-level",
        "error",
    ]
    done = run(argv, production_env(tmp_path, ALLOWED_HOSTS="*"), tmp_path)
    assert done.returncode != 0
    assert "Refusing to start" in done.stderr
    assert _ids(done.stderr) == ["yunyi.E004"]


def test_refuse_unsafe_boot_raises_with_the_message_ids() -> None:
    with (
        override_settings(YUNYI_ENV="production", DEBUG=True, AUDIT_ENABLED=False),
        pytest.raises(SystemCheckError) as refused,
    ):
        refuse_unsafe_boot()
    ids = _ids(str(refused.value))
    assert str(refused.value).startswith("Refusing to start:")
    assert "yunyi.E001" in ids
    assert "yunyi.E005" in ids


def test_refuse_unsafe_boot_passes_outside_production() -> None:
    assert settings.YUNYI_ENV == "test"
    refuse_unsafe_boot()  # raises SystemCheckError when refusing


def test_demo_refuses_even_a_safely_configured_production(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    done = yunyi(env, tmp_path, "demo")
    assert done.returncode == 1
    assert "yunyi demo refuses to run with YUNYI_ENV=production" in done.stderr
    assert done.stdout == ""
    database = tmp_path / "production.sqlite3"
    assert not database.exists() or database.stat().st_size == 0
