"""The medical record's figures (issue "Electronic medical record"), each as a wall-clock rate and
per CPU-second of the server (or importer) processes plus the database server's backends:

1. Import of a generated, Synthea-shaped corpus with `yunyi import-fhir` (one transaction per
   patient Bundle), and the importer's peak memory for a corpus and one twice its size (flat).
2. A read / create / update mix over the FHIR API (8:1:1), with reads alone and a bare JSON
   endpoint (/healthz) in the same run for the latency baseline.
3. Common searches with many resources stored: `Observation?patient&code&date&_sort=-date`,
   `Patient?name&birthdate`, `Condition?code`; p50/p95 and searches per CPU-second.

The API's scenarios are measured in BENCH_ROUNDS windows (default 3) of BENCH_SECONDS (default
3) each, in turn with the other scenarios of their table: this machine's speed drifts by tens of
percent within a minute, and a figure from one window could not be compared with the next. The
tables give each figure over all windows and the range of the windows' requests per CPU-second.

Sizes: BENCH_FHIR_IMPORT_PATIENTS (default 30 patients ≈ 4,800 resources) and
BENCH_FHIR_SEARCH_RESOURCES (default 20,000; the issue's 1,000,000 is opt-in:
BENCH_FHIR_SEARCH_RESOURCES=1000000). The search corpus is written by `bulk_load` (the store's
own index extraction, COPY on PostgreSQL): about 6,000 resources per CPU-second of the loader, so
a million load in roughly ten minutes of wall time on a busy two-core machine (PostgreSQL's index
maintenance is most of it). BENCH_FHIR_LOADED_DATABASE reuses a PostgreSQL database loaded
before (same BENCH_FHIR_SEARCH_RESOURCES) instead of loading a fresh one. PostgreSQL when
YUNYI_DATABASE_URL names one, else SQLite. The server is uWSGI with 2 sync workers and the
deployment's `deploy/uwsgi.ini` (how production serves HTTP).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.harness import (
    ROUNDS_HEADER,
    BenchDatabase,
    CpuMeter,
    Load,
    Step,
    bench_connections,
    bench_database,
    bench_rounds,
    bench_seconds,
    get,
    interleaved,
    rounds_row,
    table,
)
from tests.support.live_server import BIN, REPO, LiveServer, running_server, server_env
from yunyi.emr.synthetic import patient_bundle

CONNECTIONS = bench_connections()
SECONDS = bench_seconds(3)
ROUNDS = bench_rounds(3)
# Each API scenario in ROUNDS windows of SECONDS, in turn with the others of its table.
_WINDOWS = f"{ROUNDS}x{SECONDS:g}s each, in turn"
IMPORT_PATIENTS = int(os.environ.get("BENCH_FHIR_IMPORT_PATIENTS", "30"))
SEARCH_RESOURCES = int(os.environ.get("BENCH_FHIR_SEARCH_RESOURCES", "20000"))
RESOURCES_PER_PATIENT = len(patient_bundle(0)["entry"])
FHIR_JSON = "application/fhir+json"

# Loads generated patients straight into the database with `bulk_load` (below): no files, since
# a million resources would be gigabytes of Bundles.
LOAD_SCRIPT = """
import sys
sys.path.insert(0, {repo!r})
from bench.emr_fhir import bulk_load
bulk_load({start}, {stop})
"""
LOAD_PATIENTS_PER_PROCESS = 1000


def _rewrite_references(node: Any, mapping: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {key: _rewrite_references(value, mapping) for key, value in node.items()}
        reference = node.get("reference")
        if isinstance(reference, str) and reference in mapping:
            out["reference"] = mapping[reference]
        return out
    if isinstance(node, list):
        return [_rewrite_references(item, mapping) for item in node]
    return node


def bulk_load(start: int, stop: int, *, batch: int = 50) -> int:
    """Write the generated patients `start`..`stop` (their Bundles' resources, as the importer
    would store them with stable ids) straight into the store's tables: current rows, version 1
    and the index rows the store's own extraction gives (`extract_index_rows`), in bulk — COPY on
    PostgreSQL, multi-row INSERTs on SQLite — `batch` patients per transaction. A benchmark
    fixture only: it skips validation, access policy and the audit trail (the data is the
    generator's, which the importer accepts), and assumes a database nobody else writes to.
    Returns the number of resources written."""
    from django.db import connection, transaction

    from yunyi.emr.models import CurrentResource, ResourceVersion
    from yunyi.emr.search.dates import format_instant
    from yunyi.emr.search.extract import extract_index_rows
    from yunyi.emr.store.indexing import INDEX_TABLES, concrete_field, table_mask, write_index_rows
    from yunyi.emr.store.writes import VERSION_FIELDS, compartment_text

    row_lists = ("token", "string", "date", "reference", "quantity", "uri", "number")
    current_fields = (
        "id",
        "resource_type",
        "fhir_id",
        "version_id",
        "last_updated",
        "deleted",
        "document",
        "indexed_tables",
        "patients",
    )
    postgresql = connection.vendor == "postgresql"
    quote = connection.ops.quote_name

    def columns(model: Any, names: tuple[str, ...]) -> str:
        return ", ".join(quote(str(concrete_field(model, n).column)) for n in names)

    written = 0
    for first in range(start, stop, batch):
        moment = datetime.now(UTC).replace(microsecond=0)
        stamp = format_instant(moment)
        when: Any = moment if postgresql else connection.ops.adapt_datetimefield_value(moment)
        current: list[tuple[Any, ...]] = []
        versions: list[tuple[Any, ...]] = []
        index_entries = []
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT COALESCE(MAX(id), 0) FROM {quote(CurrentResource._meta.db_table)}"
                )
                (next_pk,) = cursor.fetchone()
            for seed in range(first, min(stop, first + batch)):
                entries = patient_bundle(seed)["entry"]
                mapping = {
                    e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
                    for e in entries
                }
                for entry in entries:
                    document = _rewrite_references(entry["resource"], mapping)
                    document["meta"] = {"versionId": "1", "lastUpdated": stamp}
                    rows = extract_index_rows(document)
                    next_pk += 1
                    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
                    kind, fhir_id = document["resourceType"], document["id"]
                    current.append(
                        (
                            next_pk,
                            kind,
                            fhir_id,
                            1,
                            when,
                            False,
                            text,
                            table_mask(rows),
                            compartment_text(document),
                        )
                    )
                    versions.append((next_pk, kind, fhir_id, 1, when, "create", text))
                    index_entries.append((next_pk, kind, rows))
            written += len(current)
            if not postgresql:
                with connection.cursor() as cursor:
                    for model, names, values in (
                        (CurrentResource, current_fields, current),
                        (ResourceVersion, VERSION_FIELDS, versions),
                    ):
                        marks = ", ".join(["%s"] * len(names))
                        cursor.executemany(
                            f"INSERT INTO {quote(model._meta.db_table)} "
                            f"({columns(model, names)}) VALUES ({marks})",
                            values,
                        )
                write_index_rows(index_entries)
                continue
            raw = connection.cursor().cursor  # the psycopg cursor, for COPY
            for model, names, values in (
                (CurrentResource, current_fields, current),
                (ResourceVersion, VERSION_FIELDS, versions),
            ):
                with raw.copy(
                    f"COPY {quote(model._meta.db_table)} ({columns(model, names)}) FROM STDIN"
                ) as copy:
                    for value in values:
                        copy.write_row(value)
            for position, model in enumerate(INDEX_TABLES):
                attribute = row_lists[position]
                with raw.copy(
                    "COPY {table} ({columns}) FROM STDIN".format(
                        table=quote(model._meta.db_table),
                        columns=columns(
                            model,
                            ("resource", "resource_type", *_index_fields(attribute)),
                        ),
                    )
                ) as copy:
                    for pk, kind, rows in index_entries:
                        for row in getattr(rows, attribute):
                            copy.write_row((pk, kind, *row))
    if postgresql:
        with connection.cursor() as cursor:
            table = CurrentResource._meta.db_table
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                f"(SELECT MAX(id) FROM {quote(table)}))",
                [table],
            )
    return written


def _index_fields(attribute: str) -> tuple[str, ...]:
    from yunyi.emr.search import extract

    row_type = {
        "token": extract.TokenRow,
        "string": extract.StringRow,
        "date": extract.DateRow,
        "reference": extract.ReferenceRow,
        "quantity": extract.QuantityRow,
        "uri": extract.UriRow,
        "number": extract.NumberRow,
    }[attribute]
    return tuple(row_type._fields)


ANALYZE_SCRIPT = """
from django.db import connection
if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
"""


def write_corpus(folder: Path, patients: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for seed in range(patients):
        bundle = patient_bundle(seed)
        total += len(bundle["entry"])
        (folder / f"patient-{seed:06d}.json").write_text(json.dumps(bundle))
    return total


def _sample_cpu(meter: CpuMeter, seen: dict[int, int]) -> None:
    for pid, ticks in meter.ticks().items():
        seen[pid] = max(seen.get(pid, 0), ticks)


def run_import(folder: Path, database: BenchDatabase, db_url: str) -> dict[str, float]:
    """`yunyi import-fhir` in a fresh database: wall time, importer CPU (rusage), database CPU
    (its backends, sampled while they live) and the importer's peak RSS."""
    env = server_env(port=8000, database_url=db_url)
    subprocess.run([str(BIN / "yunyi"), "migrate", "--no-input", "-v", "0"], env=env, check=True)
    database_cpu = CpuMeter(os.getpid(), database.backend_pids)
    before = database_cpu.ticks()
    began = time.perf_counter()
    with tempfile.TemporaryFile() as output_file:
        process = subprocess.Popen(
            [str(BIN / "yunyi"), "import-fhir", "--no-progress", str(folder)],
            env=env,
            stdout=output_file,
            stderr=subprocess.STDOUT,
        )
        seen: dict[int, int] = {}
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            _sample_cpu(database_cpu, seen)
            time.sleep(0.2)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - began
        output_file.seek(0)
        output = output_file.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"import failed: {output[-500:]}")
    clk = os.sysconf("SC_CLK_TCK")
    backend_ticks = sum(t - before.get(pid, 0) for pid, t in seen.items() if pid != os.getpid())
    total = re.search(r"^total\s+(\d+)", output, re.MULTILINE)
    return {
        "resources": float(total.group(1)) if total else 0.0,
        "seconds": seconds,
        "importer_cpu": usage.ru_utime + usage.ru_stime,
        "database_cpu": backend_ticks / clk,
        "max_rss_mb": usage.ru_maxrss / 1024,
    }


def import_figures() -> None:
    rows = []
    for patients in (IMPORT_PATIENTS, IMPORT_PATIENTS * 2):
        with tempfile.TemporaryDirectory(prefix="yunyi-corpus-") as tmp:
            corpus = Path(tmp) / "corpus"
            write_corpus(corpus, patients)
            with bench_database(f"import_{patients}") as database:
                db_url = database.url or f"sqlite:///{tmp}/import.sqlite3"
                figures = run_import(corpus, database, db_url)
            label = "PostgreSQL" if database.url else "SQLite"
        cpu = figures["importer_cpu"] + figures["database_cpu"]
        rows.append(
            [
                f"{patients} patients",
                int(figures["resources"]),
                round(figures["resources"] / figures["seconds"]),
                cpu,
                round(figures["resources"] / cpu) if cpu else 0,
                figures["max_rss_mb"],
            ]
        )
    print()
    print(
        table(
            f"yunyi import-fhir of generated Synthea-shaped Bundles, {label} "
            "(target ≥ 600 resources per CPU-second; memory flat as the corpus doubles)",
            ("corpus", "resources", "res/s", "CPU s (importer+db)", "res/CPU-s", "peak RSS MB"),
            rows,
        )
    )


def backend_token(server: LiveServer) -> str:
    printed = server.yunyi(
        "createclient",
        "--name",
        "Bench",
        "--client-id",
        f"bench-{random.randrange(10**9)}",
        "--confidential",
        "--grant-type",
        "client-credentials",
        "--scopes",
        "system/*.cruds",
    )
    client_id = re.search(r"client_id: (\S+)", printed)
    secret = re.search(r"client_secret: (\S+)", printed)
    assert client_id and secret, printed
    response = requests.post(
        f"{server.url}/o/token/",
        data={"grant_type": "client_credentials", "scope": "system/*.cruds"},
        auth=(client_id.group(1), secret.group(1)),
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _json(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any = None,
) -> tuple[int, Any]:
    data = json.dumps(body) if body is not None else None
    conn.request(method, path, body=data, headers={**headers, "Content-Type": FHIR_JSON})
    response = conn.getresponse()
    raw = response.read()
    return response.status, (json.loads(raw) if raw else None)


def observation(patient_id: str, value: float) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2025-06-01T08:00:00Z",
        "valueQuantity": {"value": value, "unit": "/min"},
    }


def crud_figures(server: LiveServer, database: BenchDatabase, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    listing = requests.get(
        f"{server.url}/fhir/R4/Observation?_count=200&_elements=id", headers=auth, timeout=30
    ).json()
    ids = [e["resource"]["id"] for e in listing["entry"]]
    patient_id = patient_bundle(0)["entry"][0]["resource"]["id"]

    def reads(index: int) -> Step:
        rng = random.Random(index)

        def step(conn: http.client.HTTPConnection) -> bool:
            status, _body = _json(conn, "GET", f"/fhir/R4/Observation/{rng.choice(ids)}", auth)
            return status == 200

        return step

    def mix(index: int) -> Step:
        rng = random.Random(index)
        mine: list[dict[str, Any]] = []

        def step(conn: http.client.HTTPConnection) -> bool:
            roll = rng.random()
            if roll < 0.1 or not mine:
                status, body = _json(
                    conn, "POST", "/fhir/R4/Observation", auth, observation(patient_id, 70)
                )
                if status == 201:
                    mine.append(body)
                return status == 201
            if roll < 0.2:
                body = {**mine[-1], "valueQuantity": {"value": rng.randint(50, 90), "unit": "/min"}}
                status, body = _json(conn, "PUT", f"/fhir/R4/Observation/{body['id']}", auth, body)
                if status == 200:
                    mine[-1] = body
                return status == 200
            status, _body = _json(conn, "GET", f"/fhir/R4/Observation/{rng.choice(ids)}", auth)
            return status == 200

        return step

    makers: dict[str, Callable[[int], Step]] = {
        "/healthz (bare JSON)": get("/healthz"),
        "FHIR read": reads,
        "FHIR read/create/update 8:1:1": mix,
    }
    windows = _measure(server, database, list(makers.values()))
    print()
    print(
        table(
            f"FHIR CRUD, uWSGI 2 workers, {database.label}, {CONNECTIONS} connections, "
            f"{_WINDOWS} (target ≥ 650 requests per CPU-second)",
            ROUNDS_HEADER,
            [rounds_row(label, mine) for label, mine in zip(makers, windows, strict=True)],
        )
    )


def _measure(
    server: LiveServer, database: BenchDatabase, makers: list[Callable[[int], Step]]
) -> list[list[Load]]:
    return interleaved(
        url=server.url,
        makers=makers,
        connections=CONNECTIONS,
        seconds=SECONDS,
        rounds=ROUNDS,
        cpu=CpuMeter(server.pid, database.backend_pids),
    )


def search_figures(
    server: LiveServer, database: BenchDatabase, token: str, stored: int, patients: int
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    rng = random.Random(7)
    samples = [
        patient_bundle(seed)["entry"][0]["resource"]
        for seed in rng.sample(range(patients), min(patients, 50))
    ]
    queries: dict[str, list[str]] = {
        "Observation?patient&code&date&_sort=-date": [
            f"/fhir/R4/Observation?patient={p['id']}&code=http://loinc.org|8867-4"
            "&date=ge2023-01-01&_sort=-date"
            for p in samples
        ],
        "Patient?name&birthdate": [
            f"/fhir/R4/Patient?name={p['name'][0]['family']}&birthdate={p['birthDate']}"
            for p in samples
        ],
        "Condition?code": [
            f"/fhir/R4/Condition?code=http://snomed.info/sct|{code}"
            for code in ("38341003", "44054006", "195662009", "10509002", "55822004")
        ],
    }

    def searching(paths: list[str]) -> Callable[[int], Step]:
        def make(index: int) -> Step:
            pick = random.Random(index)

            def step(conn: http.client.HTTPConnection) -> bool:
                conn.request("GET", pick.choice(paths), headers=auth)
                response = conn.getresponse()
                response.read()
                return response.status == 200

            return step

        return make

    windows = _measure(server, database, [searching(paths) for paths in queries.values()])
    print()
    print(
        table(
            f"FHIR search with {stored:,} resources stored, {database.label}, {CONNECTIONS} "
            f"connections, {_WINDOWS} (target p95 < 50 ms, ≥ 425 searches per CPU-second)",
            ROUNDS_HEADER,
            [rounds_row(label, mine) for label, mine in zip(queries, windows, strict=True)],
        )
    )


@contextmanager
def _loaded_database(setup: list[tuple[str, ...]], patients: int) -> Iterator[BenchDatabase]:
    """A fresh database loaded with `patients` generated patients, or the one
    BENCH_FHIR_LOADED_DATABASE names (PostgreSQL, loaded before with as many patients, e.g. by
    `bulk_load`): loading a million resources takes minutes, searching them seconds."""
    loaded = os.environ.get("BENCH_FHIR_LOADED_DATABASE", "")
    if loaded:
        yield BenchDatabase(url=loaded, name=urlsplit(loaded).path.lstrip("/"))
        return
    step = LOAD_PATIENTS_PER_PROCESS
    for start in range(0, patients, step):
        script = LOAD_SCRIPT.format(repo=str(REPO), start=start, stop=min(patients, start + step))
        setup.append(("shell", "-c", script))
    # Fresh planner statistics and visibility map, as autovacuum would make them a little later:
    # searched straight after a bulk load, PostgreSQL would still plan with the empty tables'
    # guesses, and could not answer from its indexes alone (index-only scans).
    setup.append(("shell", "-c", ANALYZE_SCRIPT))
    with bench_database("fhir_api") as database:
        yield database


def api_figures() -> None:
    patients = max(1, SEARCH_RESOURCES // RESOURCES_PER_PATIENT)
    setup: list[tuple[str, ...]] = [("migrate", "--no-input", "-v", "0")]
    with (
        _loaded_database(setup, patients) as database,
        running_server(database_url=database.url, server="uwsgi", workers=2, setup=setup) as server,
    ):
        token = backend_token(server)
        crud_figures(server, database, token)
        search_figures(server, database, token, patients * RESOURCES_PER_PATIENT, patients)


def main() -> None:
    import_figures()
    api_figures()


if __name__ == "__main__":
    main()
