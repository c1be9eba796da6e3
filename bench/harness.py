"""What every benchmark shares: a keep-alive HTTP load generator, CPU accounting of the server
processes from /proc, a database for the server under test, and a printed table.

The load generator is plain threads over `http.client`, one persistent connection each, so it runs
anywhere with no extra tool. It shares the machine's cores with the server, which is why every
figure also comes as requests per CPU-second of the server processes (and the database server's
backends on PostgreSQL): that figure compares across machines and load generators.
"""

from __future__ import annotations

import http.client
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

CLK_TCK = os.sysconf("SC_CLK_TCK")

# One request on a kept-alive connection; returns whether the answer was the expected one.
Step = Callable[[http.client.HTTPConnection], bool]


@dataclass
class Load:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def add(self, other: Load) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds
        self.latencies.extend(other.latencies)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def per_cpu_second(self) -> float:
        return self.requests / self.cpu_seconds if self.cpu_seconds else 0.0

    def percentile_ms(self, q: int) -> float:
        if len(self.latencies) < 2:
            return 0.0
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


def get(path: str, headers: dict[str, str] | None = None) -> Callable[[int], Step]:
    """A step factory: every connection GETs `path` and expects 200."""

    def make(_connection_index: int) -> Step:
        def step(conn: http.client.HTTPConnection) -> bool:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            response.read()
            return response.status == 200

        return step

    return make


def drive(
    *,
    url: str,
    make_step: Callable[[int], Step],
    connections: int,
    seconds: float,
    cpu: CpuMeter | None = None,
) -> Load:
    """Run `connections` threads, each repeating its step on one kept-alive connection, for
    `seconds`. Connections the server closes (uWSGI's sync workers close after every response)
    are reopened by http.client on the next request."""
    parts = urlsplit(url)
    start = threading.Barrier(connections + 1)
    results: list[Load] = []
    lock = threading.Lock()
    deadline = 0.0

    def worker(index: int) -> None:
        step = make_step(index)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        mine = Load()
        start.wait()
        while (begun := time.perf_counter()) < deadline:
            try:
                ok = step(conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                ok = False
            mine.latencies.append(time.perf_counter() - begun)
            mine.requests += 1
            mine.errors += 0 if ok else 1
        conn.close()
        with lock:
            results.append(mine)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    window = cpu.window() if cpu else None
    began = time.perf_counter()
    deadline = began + seconds
    start.wait()
    for thread in threads:
        while thread.is_alive():
            if window is not None:
                window.sample()
            thread.join(timeout=0.5)
    total = Load(seconds=time.perf_counter() - began)
    if window is not None:
        total.cpu_seconds = window.seconds()
    for result in results:
        total.requests += result.requests
        total.errors += result.errors
        total.latencies.extend(result.latencies)
    return total


def interleaved(
    *,
    url: str,
    makers: Sequence[Callable[[int], Step]],
    connections: int,
    seconds: float,
    rounds: int,
    cpu: CpuMeter,
) -> list[list[Load]]:
    """Each scenario (`makers`) driven `rounds` times for `seconds`, in turn (A B C A B C …),
    after a one-second warm-up each. Returns each scenario's windows. A shared machine's speed
    drifts by tens of percent within a minute: in turn, the drift hits every scenario alike,
    and the windows' spread (`rounds_row`) shows how far one figure can be trusted."""
    for make in makers:  # imports, connections, caches, prepared statements
        drive(url=url, make_step=make, connections=connections, seconds=1.0)
    windows: list[list[Load]] = [[] for _ in makers]
    for _ in range(rounds):
        for mine, make in zip(windows, makers, strict=True):
            mine.append(
                drive(url=url, make_step=make, connections=connections, seconds=seconds, cpu=cpu)
            )
    return windows


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(parent pid, utime + stime, cutime + cstime) in clock ticks from /proc/<pid>/stat
    (proc(5)); the last is the CPU time of its children that exited and were waited for."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    # After "pid (comm) ": state ppid ... utime (14th field overall) stime cutime cstime (17th).
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def process_tree(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            parents[int(entry)] = stat[0]
    tree = {root}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return tree


@dataclass(frozen=True)
class CpuSnapshot:
    own: dict[int, int]  # each process's own CPU ticks
    reaped: dict[int, int]  # each server process's exited (and waited-for) children's ticks
    tree: frozenset[int]  # the server's processes


class CpuMeter:
    """CPU time of the server process tree, plus other processes named by `extra_pids` (the
    database server's backends serving the benchmark's database), over a measurement window
    (`window`). Processes that exit during it still count: a server worker's time moves to the
    master's children's time when it reaps it (uWSGI recycles workers after `max-requests`), and
    a database backend (closed with its worker) counts up to the window's last sample of it."""

    def __init__(self, root_pid: int, extra_pids: Callable[[], Sequence[int]] = tuple) -> None:
        self.root_pid = root_pid
        self.extra_pids = extra_pids

    def ticks(self) -> dict[int, int]:
        """Each live process's own CPU ticks."""
        return self.snapshot().own

    def snapshot(self) -> CpuSnapshot:
        tree = process_tree(self.root_pid)
        own: dict[int, int] = {}
        reaped: dict[int, int] = {}
        for pid in tree | set(self.extra_pids()):
            if (stat := _stat(pid)) is not None:
                own[pid] = stat[1]
                if pid in tree:
                    reaped[pid] = stat[2]
        return CpuSnapshot(own, reaped, frozenset(tree))

    def window(self) -> CpuWindow:
        return CpuWindow(self)


class CpuWindow:
    """CPU seconds spent between its creation and `seconds()`; `sample()` now and then keeps
    the time of processes that may exit before the end."""

    def __init__(self, meter: CpuMeter) -> None:
        self.meter = meter
        self.before = meter.snapshot()
        self.last_seen = dict(self.before.own)
        self.server: set[int] = set(self.before.tree)

    def sample(self) -> None:
        now = self.meter.snapshot()
        self.last_seen.update(now.own)
        self.server |= now.tree

    def seconds(self) -> float:
        before, after = self.before, self.meter.snapshot()
        ticks = sum(t - before.own.get(pid, 0) for pid, t in after.own.items())
        ticks += sum(t - before.reaped.get(pid, 0) for pid, t in after.reaped.items())
        for pid, seen in self.last_seen.items():
            if pid in after.own:
                continue
            if pid in self.server or pid in after.tree:
                # A server process is in its parent's reaped time whole: the part before the
                # window comes off.
                ticks -= before.own.get(pid, 0)
            else:
                ticks += seen - before.own.get(pid, 0)
        return ticks / CLK_TCK


@dataclass(frozen=True)
class BenchDatabase:
    """Where the server under test keeps its data: None means a fresh SQLite file (the
    embedded default); otherwise a fresh PostgreSQL database, dropped afterwards."""

    url: str | None
    name: str

    @property
    def label(self) -> str:
        return "PostgreSQL" if self.url else "SQLite"

    def sessions_opened(self) -> int | None:
        """How many connections the database has accepted so far (PostgreSQL 14+), or None on
        SQLite. A server that keeps its connections opens none per request; Django's sync views
        under ASGI open one per request (each request runs on a new thread), and the backends
        that exit take their CPU time with them, out of reach of `CpuMeter`."""
        if not self.url:
            return None
        with psycopg.connect(_with_database(self.url, "postgres"), autocommit=True) as conn:
            row = conn.execute(
                "SELECT sessions FROM pg_stat_database WHERE datname = %s", [self.name]
            ).fetchone()
        return int(row[0]) if row else None

    def backend_pids(self) -> list[int]:
        if not self.url:
            return []
        with psycopg.connect(_with_database(self.url, "postgres"), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.name],
            ).fetchall()
        return [int(row[0]) for row in rows]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextmanager
def bench_database(label: str) -> Iterator[BenchDatabase]:
    """A database for one server run: PostgreSQL when `YUNYI_DATABASE_URL` names one."""
    base = os.environ.get("YUNYI_DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        yield BenchDatabase(url=None, name="sqlite")
        return
    name = f"yunyi_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = _with_database(base, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield BenchDatabase(url=_with_database(base, name), name=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in header]] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        lines.append(
            "  ".join(
                value.ljust(w) if i == 0 else value.rjust(w)
                for i, (value, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    return str(value)


def load_row(label: str, load: Load) -> list[object]:
    return [
        label,
        round(load.per_second),
        load.percentile_ms(50),
        load.percentile_ms(95),
        load.cpu_seconds,
        round(load.per_cpu_second),
        load.requests,
        load.errors,
    ]


def rounds_row(label: str, windows: Sequence[Load]) -> list[object]:
    """`load_row` of the windows together, with the lowest and highest window's requests per
    CPU-second after it."""
    total = Load()
    for window in windows:
        total.add(window)
    rates = [round(window.per_cpu_second) for window in windows]
    row = load_row(label, total)
    return [*row[:6], f"{min(rates)}–{max(rates)}", *row[6:]]


LOAD_HEADER = (
    "endpoint",
    "req/s",
    "p50 ms",
    "p95 ms",
    "server CPU s",
    "req/CPU-s",
    "requests",
    "errors",
)
# `rounds_row`'s columns: the windows' range after req/CPU-s.
ROUNDS_HEADER = (*LOAD_HEADER[:6], "windows", *LOAD_HEADER[6:])


def bench_connections() -> int:
    """Concurrent keep-alive connections of the load generator (BENCH_CONNECTIONS, default 4)."""
    return int(os.environ.get("BENCH_CONNECTIONS", "4"))


def bench_rounds(default: int) -> int:
    """Interleaved measurement windows per scenario (BENCH_ROUNDS, else the bench's default)."""
    return int(os.environ.get("BENCH_ROUNDS", str(default)))


def bench_seconds(default: float) -> float:
    """Seconds per measurement (BENCH_SECONDS, else the bench's own default)."""
    return float(os.environ.get("BENCH_SECONDS", str(default)))
