"""Grants/s at the token endpoint `/o/token/`, for the two grants a running system repeats:

- `client_credentials`: a confidential back-end client (registered with `yunyi createclient`)
  authenticating with HTTP Basic (RFC 6749 §4.4); each grant verifies the hashed client secret.
- `refresh_token`: the web app (public client `yunyi-web`) refreshing with rotation (RFC 6749 §6):
  every connection follows its own token family, sending the refresh token the last answer
  returned; with `openid` in scope every answer carries a fresh RS256-signed ID token.

Each grant also writes its audit entry. Measured on uWSGI (WSGI, how production serves HTTP:
`deploy/uwsgi.ini`).
"""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Callable
from urllib.parse import urlencode

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
    load_row,
    table,
)
from tests.support.live_server import LiveServer, running_server

CONNECTIONS = bench_connections()
SECONDS = bench_seconds(3)
WORKERS = 2
BACKEND_CLIENT_ID = "bench-backend"
BACKEND_SCOPE = "system/*.rs"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# Stored the way our provider stores the tokens it issues (only the SHA-256 when RFC 9700 token
# storage is on).
ISSUE_REFRESH_TOKENS = """
import datetime, secrets, uuid
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model, get_application_model, get_refresh_token_model, set_token_value)
user = get_user_model().objects.get(username="patient1")
client = get_application_model().objects.get(client_id="yunyi-web")
for _ in range({count}):
    access = get_access_token_model()(
        user=user, application=client, scope="openid profile fhirUser offline_access",
        expires=timezone.now() + datetime.timedelta(minutes=15),
    )
    set_token_value(access, secrets.token_urlsafe(32))
    access.save()
    raw = secrets.token_urlsafe(32)
    refresh = get_refresh_token_model()(
        user=user, application=client, access_token=access, token_family=uuid.uuid4()
    )
    set_token_value(refresh, raw)
    refresh.save()
    print("refresh", raw)
"""


def register_backend_client(server: LiveServer) -> str:
    output = server.yunyi(
        "createclient",
        "--name",
        "Benchmark back end",
        "--client-id",
        BACKEND_CLIENT_ID,
        "--confidential",
        "--grant-type",
        "client-credentials",
        "--scopes",
        BACKEND_SCOPE,
    )
    secrets = [
        line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("client_secret: ")
    ]
    return secrets[0]


def issue_refresh_tokens(server: LiveServer, count: int) -> list[str]:
    output = server.yunyi("shell", "-c", ISSUE_REFRESH_TOKENS.format(count=count))
    return [line.split()[1] for line in output.splitlines() if line.startswith("refresh ")]


def client_credentials(secret: str) -> Callable[[int], Step]:
    basic = base64.b64encode(f"{BACKEND_CLIENT_ID}:{secret}".encode()).decode()
    headers = FORM | {"Authorization": f"Basic {basic}"}
    body = urlencode({"grant_type": "client_credentials", "scope": BACKEND_SCOPE})

    def make(_index: int) -> Step:
        def step(conn: http.client.HTTPConnection) -> bool:
            conn.request("POST", "/o/token/", body=body, headers=headers)
            response = conn.getresponse()
            answer = json.loads(response.read())
            return response.status == 200 and "access_token" in answer

        return step

    return make


def refresh_rotation(first_tokens: list[str]) -> Callable[[int], Step]:
    # The newest refresh token of each family, kept across runs: after a rotation the old one is
    # spent, and presenting it again would revoke the family (reuse detection).
    current = list(first_tokens)

    def make(index: int) -> Step:
        def step(conn: http.client.HTTPConnection) -> bool:
            body = urlencode(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": current[index],
                    "client_id": "yunyi-web",
                }
            )
            conn.request("POST", "/o/token/", body=body, headers=FORM)
            response = conn.getresponse()
            answer = json.loads(response.read())
            if response.status != 200 or "id_token" not in answer:
                return False
            current[index] = answer["refresh_token"]
            return True

        return step

    return make


def measure(server: LiveServer, database: BenchDatabase) -> tuple[Load, Load]:
    secret = register_backend_client(server)
    # One token family per connection, for the warm-up and the measurement alike.
    refresh_tokens = issue_refresh_tokens(server, CONNECTIONS)
    cpu = CpuMeter(server.pid, database.backend_pids)
    grants = (client_credentials(secret), refresh_rotation(refresh_tokens))
    for make_step in grants:
        drive(url=server.url, make_step=make_step, connections=CONNECTIONS, seconds=1.0)
    return tuple(  # type: ignore[return-value]
        drive(
            url=server.url, make_step=make_step, connections=CONNECTIONS, seconds=SECONDS, cpu=cpu
        )
        for make_step in grants
    )


def main() -> None:
    with (
        bench_database("token") as database,
        running_server(database_url=database.url, server="uwsgi", workers=WORKERS) as server,
    ):
        backend, refresh = measure(server, database)
    print()
    print(
        table(
            f"POST /o/token/: uWSGI (WSGI sync), {WORKERS} workers, {database.label}, "
            f"{CONNECTIONS} connections, {SECONDS:g}s each",
            ["grant", *LOAD_HEADER[1:]],
            [
                load_row("client_credentials", backend),
                load_row("refresh_token (rotating)", refresh),
            ],
        )
    )
    print(
        "grants/s: client_credentials "
        f"{backend.per_second:.0f}, refresh_token {refresh.per_second:.0f}"
    )


if __name__ == "__main__":
    main()
