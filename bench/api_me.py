"""Requests/s of an authenticated `GET /api/v1/me` against a bare `/healthz`, in the same run, on
the same server: the ratio is the figure (target: /me costs at most 1.5x the time of /healthz).

Measured on uvicorn (ASGI, how `make run` serves) and on gunicorn (WSGI sync workers, how
production serves HTTP), each against a fresh database loaded by `yunyi demo`. The access tokens
are real rows of our OAuth provider for the demo user patient1 and the yunyi-web client.
"""

from __future__ import annotations

import os

from bench.harness import (
    LOAD_HEADER,
    BenchDatabase,
    CpuMeter,
    Load,
    Step,
    bench_database,
    drive,
    get,
    load_row,
    table,
)
from tests.support.live_server import LiveServer, running_server

CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = 2
TARGET_RATIO = 1.5

SERVERS = (
    ("uvicorn", 1, "uvicorn (ASGI), 1 worker"),
    ("gunicorn", 2, "gunicorn (WSGI sync), 2 workers"),
)

ISSUE_TOKENS = """
import datetime, secrets
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model
user = get_user_model().objects.get(username="patient1")
client = get_application_model().objects.get(client_id="yunyi-web")
for _ in range({count}):
    token = secrets.token_urlsafe(32)
    get_access_token_model().objects.create(
        user=user, application=client, token=token, scope="openid profile fhirUser",
        expires=timezone.now() + datetime.timedelta(hours=1),
    )
    print("token", token)
"""


def issue_access_tokens(server: LiveServer, count: int) -> list[str]:
    output = server.yunyi("shell", "-c", ISSUE_TOKENS.format(count=count))
    # `shell` may print its own notes (auto-imports) on stdout: keep only our lines.
    return [line.split()[1] for line in output.splitlines() if line.startswith("token ")]


def measure(server: LiveServer, database: BenchDatabase) -> tuple[Load, Load]:
    tokens = issue_access_tokens(server, CONNECTIONS)

    def me(index: int) -> Step:
        return get("/api/v1/me", {"Authorization": f"Bearer {tokens[index]}"})(index)

    healthz = get("/healthz")
    cpu = CpuMeter(server.pid, database.backend_pids)
    for make_step in (healthz, me):  # warm up: imports, connections, caches
        drive(url=server.url, make_step=make_step, connections=CONNECTIONS, seconds=1.0)
    totals = (Load(), Load())
    for _ in range(ROUNDS):  # interleaved, so drift on a shared machine hits both alike
        for total, make_step in zip(totals, (healthz, me), strict=True):
            total.add(
                drive(
                    url=server.url,
                    make_step=make_step,
                    connections=CONNECTIONS,
                    seconds=SECONDS,
                    cpu=cpu,
                )
            )
    return totals


def main() -> None:
    for kind, workers, label in SERVERS:
        with (
            bench_database(f"me_{kind}") as database,
            running_server(database_url=database.url, server=kind, workers=workers) as server,
        ):
            health, me = measure(server, database)
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


if __name__ == "__main__":
    main()
