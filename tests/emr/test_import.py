"""`yunyi import-fhir`: Bundles and Bulk Data NDJSON, one transaction per Bundle or chunk, bad
parts reported while the rest goes on, and nothing imported twice."""

from __future__ import annotations

import json
from io import StringIO
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.emr.conftest import SYNTHEA, observation, patient
from yunyi.audit.models import AuditEntry
from yunyi.emr.importer import import_fhir
from yunyi.emr.models import CurrentResource, ReferenceIndex, ResourceVersion
from yunyi.emr.synthetic import patient_bundle

pytestmark = pytest.mark.django_db


def _sample(tmp_path: Path, lines: dict[str, int]) -> Path:
    """A folder with the first lines of some Synthea NDJSON files."""
    if not SYNTHEA.exists():
        pytest.skip(f"Synthea sample not found at {SYNTHEA}")
    folder = tmp_path / "bulk"
    folder.mkdir()
    for name, count in lines.items():
        with (SYNTHEA / f"{name}.000.ndjson").open() as source:
            (folder / f"{name}.000.ndjson").write_text("".join(islice(source, count)))
    (folder / "log.ndjson").write_text((SYNTHEA / "log.ndjson").read_text())
    return folder


def _versions() -> int:
    return ResourceVersion.objects.count()


def test_bulk_ndjson_imports_in_dependency_order_and_resolves_conditional_references(
    tmp_path: Path,
) -> None:
    folder = _sample(
        tmp_path,
        {"Encounter": 40, "Practitioner": 43, "Organization": 43, "Location": 44, "Patient": 13},
    )
    report = import_fhir([folder], chunk_size=25)
    assert report.failures == []
    assert dict(report.created) == {
        "Encounter": 40,
        "Location": 44,
        "Organization": 43,
        "Patient": 13,
        "Practitioner": 43,
    }
    encounter = CurrentResource.objects.filter(resource_type="Encounter").first()
    assert encounter is not None
    individual = encounter.document["participant"][0]["individual"]["reference"]
    assert individual.startswith("Practitioner/")
    assert "?" not in individual
    assert (
        ReferenceIndex.objects.filter(
            resource_type="Encounter", param="practitioner", target_type="Practitioner"
        ).count()
        == 40
    )
    # One audit entry per transaction, as the importing client.
    entries = AuditEntry.objects.filter(action="fhir.transaction")
    assert entries.count() == report.transactions
    assert {e.client_id for e in entries} == {"yunyi-import"}


def test_rerunning_an_import_writes_nothing_twice(tmp_path: Path) -> None:
    folder = _sample(tmp_path, {"Organization": 10, "Patient": 5})
    (folder / "patient.json").write_text(json.dumps(patient_bundle(7, years=1)))
    first = import_fhir([folder])
    before = _versions()
    second = import_fhir([folder])
    assert second.failures == []
    assert sum(second.created.values()) == 0
    assert sum(second.existing.values()) == first.resources
    assert _versions() == before


def test_a_bad_bundle_is_reported_and_the_others_go_on(tmp_path: Path) -> None:
    good = patient_bundle(1, years=1)
    bad = patient_bundle(2, years=1)
    bad["entry"][3]["resource"]["status"] = {"not": "a code"}
    (tmp_path / "a-good.json").write_text(json.dumps(good))
    (tmp_path / "b-bad.json").write_text(json.dumps(bad))
    (tmp_path / "c-broken.json").write_text("{ not json")
    (tmp_path / "d-not-a-bundle.json").write_text(json.dumps(patient("p")))
    report = import_fhir([tmp_path])
    assert [(Path(where).name, why.split(":")[0]) for where, why in report.failures] == [
        ("b-bad.json", "400 invalid_resource"),
        ("c-broken.json", "not a JSON file"),
        ("d-not-a-bundle.json", "not a FHIR Bundle"),
    ]
    assert sum(report.created.values()) == len(good["entry"])
    assert CurrentResource.objects.count() == len(good["entry"])


def test_bad_ndjson_lines_are_reported_and_the_rest_of_their_chunk_is_written(
    tmp_path: Path,
) -> None:
    lines = [
        json.dumps(observation() | {"id": f"o{i}", "subject": {"reference": "Patient/p"}})
        for i in range(4)
    ]
    lines.insert(2, "{broken")
    lines.insert(3, json.dumps({"resourceType": "Observation", "id": "bad", "status": "final"}))
    path = tmp_path / "Observation.000.ndjson"
    path.write_text("\n".join(lines) + "\n")
    report = import_fhir([path], chunk_size=10)
    assert [(where.rsplit(":", 1)[1], why.split(":")[0]) for where, why in report.failures] == [
        ("3", "not a JSON line"),
        ("4", "400 invalid_resource"),
    ]
    assert dict(report.created) == {"Observation": 4}
    assert sorted(
        CurrentResource.objects.filter(resource_type="Observation").values_list(
            "fhir_id", flat=True
        )
    ) == ["o0", "o1", "o2", "o3"]


def test_the_command_prints_counts_per_type_and_fails_on_bad_parts(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps(patient_bundle(3, years=1)))
    out = StringIO()
    call_command("import-fhir", str(tmp_path), "--no-progress", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["resource", "type", "imported", "existing"]
    assert any(line.split()[:2] == ["Patient", "1"] for line in lines)
    assert lines[-1].split()[0] == "total"
    (tmp_path / "two.json").write_text("[]")
    err = StringIO()
    with pytest.raises(CommandError, match="1 part"):
        call_command("import-fhir", str(tmp_path), "--no-progress", stdout=StringIO(), stderr=err)
    assert "two.json: not a FHIR Bundle" in err.getvalue()


def test_a_synthea_style_transaction_bundle_resolves_its_urn_uuid_references(
    tmp_path: Path,
) -> None:
    bundle: dict[str, Any] = patient_bundle(11, years=1)
    (tmp_path / "p.json").write_text(json.dumps(bundle))
    report = import_fhir([tmp_path])
    assert report.failures == []
    patient_id = bundle["entry"][0]["resource"]["id"]
    assert CurrentResource.objects.filter(resource_type="Patient", fhir_id=patient_id).exists()
    subjects = {
        d["subject"]["reference"]
        for d in CurrentResource.objects.filter(resource_type="Observation").values_list(
            "document", flat=True
        )
    }
    assert subjects == {f"Patient/{patient_id}"}
