"""The per-process bearer-token cache (`yunyi.identity.token_cache`): what it keeps, and that every
change to what a token lookup reads — made by this process, or committed by another connection —
stops a cached lookup from being served."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import AccessToken

from tests.conftest import issue_access_token, token_cache_settled
from tests.core.production_env import production_env, run
from yunyi.accounts.models import RoleGrant, User
from yunyi.accounts.roles import Role
from yunyi.identity import token_cache
from yunyi.identity.selectors import access_token_by_value, token_checksum
from yunyi.identity.token_cache import TokenCache

# --- The cache itself ---------------------------------------------------------------------------


def _listening_cache() -> TokenCache:
    cache = TokenCache()
    cache.set_listening(True)
    return cache


def test_a_kept_lookup_is_served_until_its_time_is_up() -> None:
    cache = _listening_cache()
    cache.put("abc", [{"id": 1}], seconds=0.05, generation=cache.generation)
    assert cache.get("abc") == [{"id": 1}]
    time.sleep(0.06)
    assert cache.get("abc") is None


def test_a_lookup_read_before_a_change_is_not_kept() -> None:
    cache = _listening_cache()
    read_at = cache.generation
    cache.forget("other-token")  # a change heard while the lookup was in the database
    cache.put("abc", [{"id": 1}], seconds=60, generation=read_at)
    assert cache.get("abc") is None


def test_forgetting_one_token_keeps_the_others_and_star_forgets_all() -> None:
    cache = _listening_cache()
    for key in ("a", "b", "c"):
        cache.put(key, [{"key": key}], seconds=60, generation=cache.generation)
    cache.forget("a")
    assert cache.get("a") is None
    assert cache.get("b") == [{"key": "b"}]
    cache.forget(token_cache.EVERYTHING)
    assert cache.get("b") is None
    assert cache.get("c") is None


def test_nothing_is_kept_or_served_while_not_listening() -> None:
    cache = _listening_cache()
    cache.put("a", [{"id": 1}], seconds=60, generation=cache.generation)
    cache.set_listening(False)
    assert cache.get("a") is None
    cache.put("b", [{"id": 2}], seconds=60, generation=cache.generation)
    cache.set_listening(True)
    assert cache.get("b") is None


def test_a_full_cache_drops_its_oldest_entries() -> None:
    cache = _listening_cache()
    for n in range(token_cache.MAX_ENTRIES + 1):
        cache.put(str(n), [], seconds=60, generation=cache.generation)
    assert cache.get("0") is None
    assert cache.get(str(token_cache.MAX_ENTRIES)) == []


@pytest.mark.django_db
def test_only_postgresql_caches_and_zero_seconds_turns_it_off(settings: Any) -> None:
    settings.TOKEN_CACHE_SECONDS = 60
    # SQLite has no notifications to keep a cache exact.
    assert (token_cache.current() is not None) == (connection.vendor == "postgresql")
    settings.TOKEN_CACHE_SECONDS = 0
    assert token_cache.current() is None


# --- Against PostgreSQL, with the listener and the triggers -------------------------------------


def _admin_connection() -> psycopg.Connection[Any]:
    """Another session on the test database, committing as another process would."""
    return psycopg.connect(token_cache.listener_conninfo(), autocommit=True)


def _until(condition: Callable[[], bool], *, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def listening(listening_token_cache: TokenCache) -> TokenCache:
    return listening_token_cache


def _cached(token: str) -> bool:
    cache = token_cache.current()
    return cache is not None and cache.get(token_checksum(token)) is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_lookup_costs_no_query(
    listening: TokenCache, make_user: Callable[..., User]
) -> None:
    token = issue_access_token(make_user(roles=[Role.PATIENT]))
    token_cache_settled(listening)
    first = access_token_by_value(token)
    with CaptureQueriesContext(connection) as queries:
        second = access_token_by_value(token)
    assert len(queries) == 0
    assert first is not None and second is not None
    assert second.user.username == first.user.username
    assert second.user.role_set() == {Role.PATIENT}
    assert second.user is not first.user  # each request gets instances of its own


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_token_revoked_by_another_process_stops_at_once(
    listening: TokenCache, make_user: Callable[..., User]
) -> None:
    token = issue_access_token(make_user())
    token_cache_settled(listening)
    assert access_token_by_value(token) is not None
    assert _cached(token)
    with _admin_connection() as other:
        other.execute(
            "DELETE FROM oauth2_provider_accesstoken WHERE token_checksum = %s",
            [token_checksum(token)],
        )
    assert _until(lambda: not _cached(token))
    assert access_token_by_value(token) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "change",
    [
        "UPDATE accounts_user SET is_active = false WHERE id = %(user)s",
        "DELETE FROM accounts_rolegrant WHERE user_id = %(user)s",
        "UPDATE oauth2_provider_application SET name = 'renamed' WHERE id = %(client)s",
        "INSERT INTO identity_clientpolicy (application_id, allowed_scopes, may_introspect_any, "
        "disabled_at, jwks, launch_uri, created, updated) "
        "VALUES (%(client)s, '', false, now(), '', '', now(), now())",
    ],
    ids=["user deactivated", "role withdrawn", "client changed", "client disabled"],
)
def test_what_else_a_lookup_reads_changed_elsewhere_empties_the_cache(
    listening: TokenCache, make_user: Callable[..., User], change: str
) -> None:
    user = make_user(roles=[Role.PATIENT])
    token = issue_access_token(user)
    token_cache_settled(listening)
    found = access_token_by_value(token)
    assert found is not None and _cached(token)
    with _admin_connection() as other:
        other.execute(change, {"user": user.pk, "client": found.application_id})
    assert _until(lambda: not _cached(token))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sign_in_does_not_empty_the_cache(
    listening: TokenCache, make_user: Callable[..., User]
) -> None:
    user = make_user()
    token = issue_access_token(user)
    token_cache_settled(listening)
    access_token_by_value(token)
    assert _cached(token)
    generation = listening.generation
    with _admin_connection() as other:
        other.execute("UPDATE accounts_user SET last_login = now() WHERE id = %s", [user.pk])
        # A change the trigger does report, after the one it must not: once it has been heard,
        # so has the sign-in (notifications arrive in commit order).
        other.execute("SELECT pg_notify('yunyi_auth', 'unrelated-token')")
    assert _until(lambda: listening.generation > generation)
    assert _cached(token)


@pytest.mark.postgres
@pytest.mark.django_db
def test_this_process_forgets_its_own_changes_before_they_commit(
    listening: TokenCache, make_user: Callable[..., User]
) -> None:
    # Inside one uncommitted transaction (as every test here runs): no notification is sent.
    user = make_user()
    token = issue_access_token(user)
    assert access_token_by_value(token) is not None
    RoleGrant.objects.create(user=user, role=Role.GUARDIAN)
    found = access_token_by_value(token)
    assert found is not None and Role.GUARDIAN in found.user.role_set()
    AccessToken.objects.filter(token_checksum=token_checksum(token)).delete()
    assert access_token_by_value(token) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_expired_token_is_not_served_from_the_cache(
    listening: TokenCache, make_user: Callable[..., User]
) -> None:
    token = issue_access_token(make_user(), expires_in=1)
    token_cache_settled(listening)
    assert access_token_by_value(token) is not None
    assert _cached(token)  # kept no longer than the token lives
    time.sleep(1.1)
    assert access_token_by_value(token) is None


@pytest.mark.parametrize(
    ("prepared", "expected"),
    [("1", "60"), ("0", "0")],
    ids=["direct connection", "behind a transaction-mode pooler"],
)
def test_the_cache_is_off_by_default_behind_a_pooler_that_drops_notifications(
    tmp_path: Path, prepared: str, expected: str
) -> None:
    # PgBouncer in transaction mode (prepared statements off) never delivers LISTEN/NOTIFY: a
    # cache there would serve revoked tokens until they expire from it.
    env = production_env(
        tmp_path,
        DATABASE_URL="postgres://yunyi@127.0.0.1:6432/yunyi",
        DB_PREPARED_STATEMENTS=prepared,
    )
    printed = run(
        [
            sys.executable,
            "-c",
            "from yunyi.config import settings; print(settings.TOKEN_CACHE_SECONDS)",
        ],
        env,
        tmp_path,
    )
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert printed.stdout.split() == [expected]
