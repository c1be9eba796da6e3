"""A production environment for `yunyi` subprocesses: every key freshly generated, nothing
inherited from the test run's own `YUNYI_*` variables."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BIN = Path(sys.executable).parent


def rsa_pem(bits: int = 2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """Overrides are `YUNYI_` names without the prefix; None removes the variable."""
    # As after `yunyi collectstatic`, which a deployment runs before it serves.
    (tmp_path / "var" / "static").mkdir(parents=True, exist_ok=True)
    key_file = tmp_path / "oidc.pem"
    if not key_file.exists():
        key_file.write_text(rsa_pem())
    yunyi = {
        "ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_KEYS": "k2:"
        + base64.b64encode(secrets.token_bytes(32)).decode()
        + ",k1:"
        + base64.b64encode(secrets.token_bytes(32)).decode(),
        "BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "yunyi.example.org",
        "BASE_URL": "https://yunyi.example.org",
        "OIDC_PRIVATE_KEY_FILE": str(key_file),
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
    }
    for name, value in overrides.items():
        if value is None:
            yunyi.pop(name, None)
        else:
            yunyi[name] = value
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUNYI_")}
    env.update({f"YUNYI_{name}": value for name, value in yunyi.items()})
    env["DJANGO_SETTINGS_MODULE"] = "yunyi.config.settings"
    return env


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def yunyi(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([str(BIN / "yunyi"), *args], env, cwd)
