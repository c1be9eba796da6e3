"""Importing FHIR data: Bundle files (Synthea's per-patient transaction bundles and its hospital
and practitioner batch bundles) and FHIR Bulk Data NDJSON files (one resource type per file, one
resource per line), file by file and folder by folder.

Each Bundle, and each chunk of NDJSON lines, is one transaction through
`yunyi.emr.transactions.record_bundle` (so access policy and audit apply) with stable ids: a
resource keeps the id its source gave it, and one that already exists is skipped, so re-running
an import writes nothing twice. Conditional references (``Practitioner?identifier=…``) are
resolved once and remembered. A bad Bundle is reported with its reason and the import goes on; in
NDJSON the bad lines are reported and the rest of their chunk is written. Memory stays flat:
NDJSON is streamed, and only one Bundle is held at a time.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from yunyi.core.errors import ApplicationError
from yunyi.emr.policy import Actor
from yunyi.emr.store.django_store import default_store
from yunyi.emr.transactions import record_bundle
from yunyi.emr.validation import FHIR_ID

IMPORT_CLIENT_ID: Final = "yunyi-import"
DEFAULT_CHUNK: Final = 500
# Resources others refer to conditionally come first (Synthea: Practitioner?identifier=...).
TYPE_ORDER: Final = (
    "Organization",
    "Location",
    "Practitioner",
    "PractitionerRole",
    "Medication",
    "Patient",
    "Encounter",
)
_PRIORITY_PREFIXES: Final = ("hospitalInformation", "practitionerInformation")


@dataclass
class ImportReport:
    created: Counter[str] = field(default_factory=Counter)
    existing: Counter[str] = field(default_factory=Counter)
    transactions: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (where, why)

    @property
    def resources(self) -> int:
        return sum(self.created.values()) + sum(self.existing.values())


def _type_rank(resource_type: str) -> tuple[int, str]:
    rank = TYPE_ORDER.index(resource_type) if resource_type in TYPE_ORDER else len(TYPE_ORDER)
    return rank, resource_type


def _file_rank(path: Path) -> tuple[int, tuple[int, str], str]:
    if path.suffix == ".ndjson":
        return 0, _type_rank(path.name.split(".", 1)[0]), path.name
    priority = 1 if path.name.startswith(_PRIORITY_PREFIXES) else 2
    return priority, (0, ""), path.name


def import_files(paths: Sequence[Path]) -> list[Path]:
    """The files to import under `paths` (folders recursively), in dependency order: NDJSON by
    type, then hospital and practitioner bundles, then the rest by name."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in path.rglob("*") if p.is_file() and p.suffix in (".json", ".ndjson")
            )
        else:
            found.append(path)
    return sorted(dict.fromkeys(found), key=_file_rank)


def _as_transaction(bundle: dict[str, Any]) -> dict[str, Any]:
    """Any Bundle as a transaction: batch and collection entries become POSTs (keeping a
    request's ifNoneExist), so one file is one all-or-nothing write."""
    entries = []
    for entry in bundle.get("entry") or []:
        if not isinstance(entry, dict):
            entries.append(entry)
            continue
        resource = entry.get("resource")
        request = entry.get("request")
        if not isinstance(request, dict) and isinstance(resource, dict):
            request = {"method": "POST", "url": str(resource.get("resourceType", ""))}
            resource_id = resource.get("id")
            if not entry.get("fullUrl") and isinstance(resource_id, str):
                entry = {**entry, "fullUrl": f"urn:uuid:{resource_id}"}
        entries.append({**entry, "request": request})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _count(report: ImportReport, answer: dict[str, Any]) -> None:
    for entry in answer.get("entry") or []:
        response = entry.get("response") or {}
        where = str(response.get("location") or entry.get("fullUrl") or "")
        parts = where.split("/_history")[0].rstrip("/").split("/")
        resource_type = parts[-2] if len(parts) >= 2 else "?"
        if str(response.get("status", "")).startswith("201"):
            report.created[resource_type] += 1
        else:
            report.existing[resource_type] += 1


class Importer:
    """One import run: the actor, the reference cache shared by every transaction, the report."""

    def __init__(self, *, actor: Actor | None = None, chunk_size: int = DEFAULT_CHUNK) -> None:
        self.actor = actor or Actor.system(client_id=IMPORT_CLIENT_ID)
        self.chunk_size = chunk_size
        self.references: dict[str, str] = {}
        self.report = ImportReport()
        self.base = default_store().local_base or ""

    def _transaction(self, bundle: dict[str, Any]) -> dict[str, Any]:
        answer = record_bundle(
            actor=self.actor,
            bundle=bundle,
            base=self.base,
            stable_ids=True,
            reference_cache=self.references,
        )
        self.report.transactions += 1
        _count(self.report, answer)
        return answer

    def import_bundle_file(self, path: Path) -> None:
        try:
            with path.open("rb") as handle:
                bundle = json.load(handle)
        except (OSError, ValueError, RecursionError) as error:
            self.report.failures.append((str(path), f"not a JSON file: {type(error).__name__}"))
            return
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            self.report.failures.append((str(path), "not a FHIR Bundle"))
            return
        try:
            self._transaction(_as_transaction(bundle))
        except ApplicationError as error:
            self.report.failures.append((str(path), _reason(error)))

    def import_ndjson_file(self, path: Path, advance: Callable[[int], None]) -> None:
        for chunk in _ndjson_chunks(path, self.chunk_size, self.report, advance):
            self._ndjson_chunk(path, chunk)

    def _ndjson_chunk(self, path: Path, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        entries = [_ndjson_entry(resource) for _line, resource in chunk]
        try:
            self._transaction({"resourceType": "Bundle", "type": "transaction", "entry": entries})
            return
        except ApplicationError as error:
            bad = _bad_entries(error)
            if not bad or len(bad) == len(chunk):
                where = f"{path}:{chunk[0][0]}-{chunk[-1][0]}"
                self.report.failures.append((where, _reason(error)))
                return
            for index in sorted(bad):
                self.report.failures.append((f"{path}:{chunk[index][0]}", _reason(error, index)))
        rest = [item for index, item in enumerate(chunk) if index not in bad]
        self._ndjson_chunk(path, rest)


def _ndjson_entry(resource: dict[str, Any]) -> dict[str, Any]:
    resource_id = resource.get("id")
    entry: dict[str, Any] = {
        "resource": resource,
        "request": {"method": "POST", "url": str(resource.get("resourceType", ""))},
    }
    if isinstance(resource_id, str) and FHIR_ID.match(resource_id):
        entry["fullUrl"] = f"urn:uuid:{resource_id}"
    return entry


def _ndjson_chunks(
    path: Path, size: int, report: ImportReport, advance: Callable[[int], None]
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    chunk: list[tuple[int, dict[str, Any]]] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            advance(len(raw))
            if not raw.strip():
                continue
            try:
                resource = json.loads(raw)
            except (ValueError, RecursionError):
                report.failures.append((f"{path}:{number}", "not a JSON line"))
                continue
            if not isinstance(resource, dict) or "resourceType" not in resource:
                if number == 1:
                    return  # not a resource file (e.g. a bulk export's log.ndjson)
                report.failures.append((f"{path}:{number}", "not a FHIR resource"))
                continue
            chunk.append((number, resource))
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _bad_entries(error: ApplicationError) -> set[int]:
    if not isinstance(error.details, list):
        return set()
    return {
        d["entry"] for d in error.details if isinstance(d, dict) and isinstance(d.get("entry"), int)
    }


def _reason(error: ApplicationError, entry: int | None = None) -> str:
    reason = f"{error.status} {error.code}: {error.message}"
    if isinstance(error.details, list):
        notes = [
            f"{d.get('path', '')} {d.get('message', '')}".strip()
            for d in error.details
            if isinstance(d, dict) and (entry is None or d.get("entry") == entry)
        ]
        if notes:
            reason += " (" + "; ".join(notes[:3]) + ")"
    return reason


def import_fhir(
    paths: Sequence[Path],
    *,
    actor: Actor | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[int, int], Callable[[int], None]] | None = None,
) -> ImportReport:
    """Import every Bundle and NDJSON file under `paths`. `progress(total_bytes, files)` returns
    a callback advanced by the bytes read."""
    files = import_files(paths)
    importer = Importer(actor=actor, chunk_size=chunk_size)
    total = sum(p.stat().st_size for p in files if p.exists())
    advance = progress(total, len(files)) if progress else (lambda _n: None)
    for path in files:
        if not path.exists():
            importer.report.failures.append((str(path), "no such file"))
            continue
        if path.suffix == ".ndjson":
            importer.import_ndjson_file(path, advance)
        else:
            importer.import_bundle_file(path)
            advance(path.stat().st_size)
    return importer.report
