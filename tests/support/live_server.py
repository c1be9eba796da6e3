"""A real Yunyi server in a subprocess (uvicorn, or uWSGI with the deployment's own
`deploy/uwsgi.ini` for WSGI), for integration tests, browser tests and benchmarks.

The server gets its own database (a fresh SQLite file unless a database URL is given), is migrated
and loaded with demo data by the real `yunyi` commands, and listens on a free loopback port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
UWSGI_INI = REPO / "deploy" / "uwsgi.ini"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    url: str
    pid: int
    env: dict[str, str]

    def yunyi(self, *args: str) -> str:
        """Run a `yunyi` management command against this server's database; returns stdout."""
        done = subprocess.run(
            [str(BIN / "yunyi"), *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout


def server_env(
    *, port: int, database_url: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUNYI_")}
    env.update(
        {
            "YUNYI_ENV": "demo",
            "YUNYI_DATABASE_URL": database_url,
            "YUNYI_BASE_URL": f"http://127.0.0.1:{port}",
            "YUNYI_VAR_DIR": str(REPO / "var"),
            "DJANGO_SETTINGS_MODULE": "yunyi.config.settings",
        }
    )
    env.update(extra or {})
    return env


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} not healthy after {timeout}s")


@contextmanager
def running_server(
    *,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    setup: Sequence[Sequence[str]] = (("migrate", "--no-input", "-v", "0"), ("demo",)),
    server: str = "uvicorn",
    workers: int = 1,
) -> Iterator[LiveServer]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="yunyi-live-") as tmp:
        db_url = database_url or f"sqlite:///{tmp}/live.sqlite3"
        env = server_env(port=port, database_url=db_url, extra=extra_env)
        for command in setup:
            try:
                subprocess.run(
                    [str(BIN / "yunyi"), *command],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
            except subprocess.CalledProcessError as exc:
                # Show why the setup failed, not just that it did.
                exc.add_note(f"stderr (last 3000 characters):\n{(exc.stderr or '')[-3000:]}")
                raise
        if server == "uwsgi":
            # The deployment's configuration, on a loopback port instead of nginx's socket.
            argv = [
                str(BIN / "uwsgi"),
                "--http-socket",
                f"127.0.0.1:{port}",
                "--ini",
                str(UWSGI_INI),
            ]
            env = {**env, "UWSGI_PROCESSES": str(workers)}
        else:
            argv = [
                str(BIN / "uvicorn"),
                "yunyi.config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ]
        # uWSGI's start-up banner goes to a file, shown only if the server does not come up.
        log = open(Path(tmp) / "server.log", "wb") if server == "uwsgi" else None  # noqa: SIM115
        process = subprocess.Popen(
            argv, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT if log else None
        )
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                _wait_until_healthy(url, process, timeout=60)
            except RuntimeError as exc:
                if log is not None:
                    log.flush()
                    tail = (Path(tmp) / "server.log").read_text(errors="replace")[-3000:]
                    exc.add_note(f"server output (last 3000 characters):\n{tail}")
                raise
            yield LiveServer(url=url, pid=process.pid, env=env)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if log is not None:
                log.close()
