"""Reading `YUNYI_*` configuration from the environment.

Production (`YUNYI_ENV=production`, the default when nothing is said) takes every secret from the
environment and has no defaults for them. Demo and test modes generate their secrets once into
`var/local-secrets.json`, so a fresh clone runs with no setup and restarts keep sessions and
encrypted fields readable; that file is never committed.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ENVIRONMENTS: Final = ("production", "demo", "development", "test")
LOCAL_ENVIRONMENTS: Final = ("demo", "development", "test")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(f"YUNYI_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"YUNYI_{name}")
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"YUNYI_{name}")
    return int(raw) if raw else default


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(f"YUNYI_{name}")
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _new_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def local_secrets(var_dir: Path) -> dict[str, str]:
    """Secrets for demo/test mode, generated on first use and kept in `var/`.

    Several processes (pytest-xdist workers, the server under test) may start at once: the file is
    created atomically and whoever loses the race reads the winner's file.
    """
    path = var_dir / "local-secrets.json"
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    var_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "secret_key": secrets.token_urlsafe(50),
        "field_keys": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "blind_index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "oidc_private_key": _new_rsa_pem(),
    }
    tmp = var_dir / f".local-secrets.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data))
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        data = json.loads(path.read_text())
    finally:
        tmp.unlink()
    return data
