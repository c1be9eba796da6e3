"""A per-process cache of bearer-token lookups on PostgreSQL, kept exact by notifications.

Every API and FHIR request looks its token up (`selectors.access_token_by_value`): one round trip
that costs more than a FHIR read's own document fetch. Its rows are cached here for at most
`TOKEN_CACHE_SECONDS` and never past the token's expiry — but only while this process listens
for changes. Database triggers (identity migration 0004) NOTIFY the `yunyi_auth` channel with a
token's checksum when its row is updated or deleted (revocation, a disabled client's tokens), and
with "*" when anything else the lookup reads changes (a user's activity or roles, a client, its
policy, a launch context). A listener thread evicts on each notification. While it is not
connected nothing is served from the cache, and reconnecting empties it, since notifications sent
in between are lost. Writes made by this process evict at once (`forget`), before they commit.

What remains is the time a notification takes to arrive (well under a millisecond on one host):
a request that races a revocation by that much is treated as one that came just before it, as
RFC 7662 §4 allows a resource server that caches token state. SQLite (the embedded, single
process default) has no notifications and no cache: its lookup is an in-process call anyway.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

CHANNEL: Final = "yunyi_auth"
EVERYTHING: Final = "*"  # the payload that empties the cache
MAX_ENTRIES: Final = 10_000
# How often an idle listener proves its connection alive; a dead one stops the cache at once.
PING_SECONDS: Final = 10.0
WAKE_SECONDS: Final = 1.0  # how soon a stopping listener notices
RETRY_SECONDS: Final = 2.0

Rows = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Entry:
    rows: Rows
    until: float  # time.monotonic() after which the entry is not served


class TokenCache:
    """Lookup rows by token checksum. `generation` moves on with every change heard, so a
    lookup that read the database before a change cannot store what it read after it."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.generation = 0
        self.listening = False
        # The last payloads heard, so a caller can tell its own notification has arrived.
        self._heard: deque[str] = deque(maxlen=64)

    def get(self, checksum: str) -> Rows | None:
        if not self.listening:
            return None
        entry = self._entries.get(checksum)
        if entry is None:
            return None
        if time.monotonic() >= entry.until:
            self._entries.pop(checksum, None)
            return None
        return entry.rows

    def put(self, checksum: str, rows: Rows, *, seconds: float, generation: int) -> None:
        """Keep `rows` for `seconds`, unless a change was heard since `generation` was read."""
        if seconds <= 0:
            return
        with self._lock:
            if not self.listening or generation != self.generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                # Dicts keep insertion order: drop the oldest tenth.
                for key in list(self._entries)[: MAX_ENTRIES // 10]:
                    del self._entries[key]
            self._entries[checksum] = _Entry(rows, time.monotonic() + seconds)

    def forget(self, checksum: str = EVERYTHING) -> None:
        with self._lock:
            self._heard.append(checksum)
            self.generation += 1
            if checksum == EVERYTHING:
                self._entries.clear()
            else:
                self._entries.pop(checksum, None)

    def has_heard(self, payload: str) -> bool:
        """Whether `payload` was among the last changes heard (or forgotten here)."""
        with self._lock:
            return payload in self._heard

    def set_listening(self, listening: bool) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()
            self.listening = listening


_cache = TokenCache()
_listener_pid: int | None = None
_listener_thread: threading.Thread | None = None
_listener_lock = threading.Lock()
_stopping = threading.Event()


def cache_seconds() -> float:
    return float(getattr(settings, "TOKEN_CACHE_SECONDS", 0))


def enabled() -> bool:
    return cache_seconds() > 0 and connection.vendor == "postgresql"


def current() -> TokenCache | None:
    """This process's cache, its listener started on first use (and again after a fork); None
    where there is no cache (SQLite, or `TOKEN_CACHE_SECONDS` = 0)."""
    global _listener_pid
    if not enabled():
        return None
    pid = os.getpid()
    if _listener_pid != pid:
        with _listener_lock:
            if _listener_pid != pid:
                # A forked child inherits the parent's entries but not its listener thread.
                _cache.set_listening(False)
                _start_listener(_cache, listener_conninfo())
                _listener_pid = pid
    return _cache


def forget(checksum: str = EVERYTHING) -> None:
    """Evict in this process now (other processes hear the trigger's notification)."""
    _cache.forget(checksum)


def listener_conninfo() -> str:
    """The default database's connection string (for the listener, and for tests acting as
    another process), from Django's own connection parameters."""
    from psycopg.conninfo import make_conninfo

    params = connection.get_connection_params()
    kept = {
        key: value
        for key, value in params.items()
        if key in {"dbname", "user", "password", "host", "port", "sslmode", "sslrootcert"}
        and value not in (None, "")
    }
    return make_conninfo(**kept)


def stop() -> None:
    """Stop this process's listener and wait for it to close its connection (tests: a test
    database cannot be dropped while a session is open on it)."""
    global _listener_pid
    with _listener_lock:
        thread = _listener_thread
        if thread is not None:
            _stopping.set()
            thread.join(timeout=2 * WAKE_SECONDS)
            _stopping.clear()
        _listener_pid = None


def _start_listener(cache: TokenCache, conninfo: str) -> None:
    global _listener_thread
    _listener_thread = threading.Thread(
        target=_listen_forever, args=(cache, conninfo), name="yunyi-token-cache", daemon=True
    )
    _listener_thread.start()


def _listen_forever(cache: TokenCache, conninfo: str) -> None:
    import psycopg

    while not _stopping.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as listener:
                listener.execute(f"LISTEN {CHANNEL}")
                cache.set_listening(True)
                pinged = time.monotonic()
                while not _stopping.is_set():
                    for notice in listener.notifies(timeout=WAKE_SECONDS):
                        cache.forget(notice.payload or EVERYTHING)
                    if time.monotonic() - pinged >= PING_SECONDS:
                        listener.execute("SELECT 1")
                        pinged = time.monotonic()
        except Exception as error:  # any failure: stop caching, then retry
            logger.warning("token cache listener stopped: %s", type(error).__name__)
        finally:
            cache.set_listening(False)
        _stopping.wait(RETRY_SECONDS)
