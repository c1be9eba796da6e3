"""Requests/s of an authenticated `GET /api/v1/me` against a bare `/healthz`, in the same run, on
the same server: the ratio is the figure (target: /me costs at most 1.5x the time of /healthz).

Measured on uvicorn (ASGI, how `make run` serves) and on uWSGI (WSGI sync workers, how
production serves HTTP: `deploy/uwsgi.ini`), each against a fresh database loaded by `yunyi
demo`. The access tokens are real rows of our OAuth provider for the demo user patient1 and the
yunyi-web client.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.harness import (
    LOAD_HEADER,
    BenchDatabase,
    CpuMeter,
    Load,
    Step,
    bench_connections,
    bench_database,
    bench_seconds,
    drive,
    get,
    load_row,
    table,
)
from tests.support.live_server import LiveServer, running_server

CONNECTIONS = bench_connections()
SECONDS = bench_seconds(3)
ROUNDS = 2
TARGET_RATIO = 1.5

SERVERS = (
    ("uvicorn", 1, "uvicorn (ASGI), 1 worker"),
    ("uwsgi", 2, "uWSGI (WSGI sync), 2 workers"),
)

# Stored the way our provider stores the tokens it issues (only the SHA-256 when RFC 9700 token
# storage is on), so the lookup is the one real requests make.
ISSUE_TOKENS = """
import datetime, secrets
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model, get_application_model, set_token_value)
user = get_user_model().objects.get(username="patient1")
client = get_application_model().objects.get(client_id="yunyi-web")
for _ in range({count}):
    raw = secrets.token_urlsafe(32)
    token = get_access_token_model()(
        user=user, application=client, scope="openid profile fhirUser",
        expires=timezone.now() + datetime.timedelta(hours=1),
    )
    set_token_value(token, raw)
    token.save()
    print("token", raw)
"""


def issue_access_tokens(server: LiveServer, count: int) -> list[str]:
    output = server.yunyi("shell", "-c", ISSUE_TOKENS.format(count=count))
    # `shell` may print its own notes (auto-imports) on stdout: keep only our lines.
    return [line.split()[1] for line in output.splitlines() if line.startswith("token ")]


@dataclass
class Measured:
    load: Load
    # Database connections the server opened while measured (PostgreSQL only).
    sessions: int | None = None

    @property
    def sessions_per_request(self) -> float | None:
        if self.sessions is None or not self.load.requests:
            return None
        return self.sessions / self.load.requests


def measure(server: LiveServer, database: BenchDatabase) -> tuple[Measured, Measured]:
    tokens = issue_access_tokens(server, CONNECTIONS)

    def me(index: int) -> Step:
        return get("/api/v1/me", {"Authorization": f"Bearer {tokens[index]}"})(index)

    healthz = get("/healthz")
    cpu = CpuMeter(server.pid, database.backend_pids)
    for make_step in (healthz, me):  # warm up: imports, connections, caches
        drive(url=server.url, make_step=make_step, connections=CONNECTIONS, seconds=1.0)
    totals = (Measured(Load()), Measured(Load()))
    for _ in range(ROUNDS):  # interleaved, so drift on a shared machine hits both alike
        for total, make_step in zip(totals, (healthz, me), strict=True):
            opened_before = database.sessions_opened()
            total.load.add(
                drive(
                    url=server.url,
                    make_step=make_step,
                    connections=CONNECTIONS,
                    seconds=SECONDS,
                    cpu=cpu,
                )
            )
            opened_after = database.sessions_opened()
            if opened_before is not None and opened_after is not None:
                total.sessions = (total.sessions or 0) + opened_after - opened_before
    return totals


def main() -> None:
    for kind, workers, label in SERVERS:
        with (
            bench_database(f"me_{kind}") as database,
            running_server(database_url=database.url, server=kind, workers=workers) as server,
        ):
            measured_health, measured_me = measure(server, database)
        health, me = measured_health.load, measured_me.load
        ratio = health.per_second / me.per_second if me.per_second else float("inf")
        cpu_ratio = health.per_cpu_second / me.per_cpu_second if me.per_cpu_second else float("inf")
        print()
        print(
            table(
                f"GET /api/v1/me vs /healthz: {label}, {database.label}, {CONNECTIONS} keep-alive "
                f"connections, {ROUNDS}x{SECONDS:g}s each",
                LOAD_HEADER,
                [load_row("/healthz", health), load_row("/api/v1/me (Bearer)", me)],
            )
        )
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        print(
            f"ratio /me : /healthz (time per request) = {ratio:.2f}x  ({verdict} the "
            f"{TARGET_RATIO}x target); per server CPU-second = {cpu_ratio:.2f}x"
        )
        opened = measured_me.sessions_per_request
        if opened is not None:
            note = (
                " (CPU of the backends that exited is not counted: the CPU ratio is flattered)"
                if opened > 0.01
                else ""
            )
            print(f"database connections opened per /me request: {opened:.2f}{note}")


if __name__ == "__main__":
    main()
