"""The deployment's uWSGI configuration (`deploy/uwsgi.ini`), run for real in production mode: it
refuses an unsafe production before any worker starts, serves a safe one with the security
headers and a closed connection per request, starts the workers it is told to, and stops on the
SIGTERM systemd sends."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.core.production_env import BIN, production_env, run
from tests.support.live_server import UWSGI_INI, free_port

# Where the kernel shows a process blocked in epoll_wait (/proc/<pid>/wchan), by kernel version.
EPOLL_WAITS = frozenset({"do_epoll_wait", "ep_poll"})


def _argv(port: int) -> list[str]:
    return [str(BIN / "uwsgi"), "--http-socket", f"127.0.0.1:{port}", "--ini", str(UWSGI_INI)]


@contextmanager
def _serving(env: dict[str, str], cwd: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    log = (cwd / "uwsgi.log").open("wb")
    process = subprocess.Popen(_argv(port), env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        assert process.poll() is None, (cwd / "uwsgi.log").read_text(errors="replace")[-3000:]
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def _wchan(pid: str) -> str:
    """Where the kernel shows `pid` blocked; "" once it has exited (a recycled worker)."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except FileNotFoundError:
        return ""


def _workers_idle(master: int, *, count: int) -> None:
    """Wait until `count` workers wait for connections: a worker still starting up can miss a
    SIGTERM (it then gets the ini's worker-reload-mercy before it is killed)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        waiting = [pid for pid in children if _wchan(pid) in EPOLL_WAITS]
        if len(waiting) == count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{count} uWSGI workers never all waited for connections")


def _get(port: int, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": "yunyi.example.org", "X-Forwarded-Proto": "https"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_uwsgi_does_not_serve_an_unsafe_production(tmp_path: Path) -> None:
    env = production_env(tmp_path, ALLOWED_HOSTS="*")
    done = run(_argv(free_port()), env, tmp_path)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "Refusing to start" in output
    assert "yunyi.E004" in output
    assert "spawned uWSGI worker" not in output


def test_uwsgi_serves_a_safe_production_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**production_env(tmp_path, BEHIND_PROXY="1"), "UWSGI_PROCESSES": "3"}
    port = free_port()
    with _serving(env, tmp_path, port) as process:
        response = _get(port, "/healthz")
        assert response.status == 200
        assert response.getheader("Connection") == "close"
        assert response.getheader("X-Frame-Options") == "DENY"
        assert response.getheader("Strict-Transport-Security") is not None
        assert _get(port, "/fhir/R4/Patient").status == 401  # bearer tokens only
        _workers_idle(process.pid, count=3)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    output = (tmp_path / "uwsgi.log").read_text(errors="replace")
    assert output.count("spawned uWSGI worker") == 3
