"""Suggestions written before the security label existed get it from `suggestions_relabel` (the
migration and `yunyi relabel-suggestions`): a new version through the emr services (history kept,
audited), after which the record hides them from the patient; other sources' RiskAssessments stay
as they are, a second run and a dry run change nothing, and a concurrent writer's version is
neither lost nor overwritten."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.diagnosis.record_helpers import SYSTEM, grant, make_patient
from tests.emr.api_support import user_client
from yunyi.audit.models import AuditEntry
from yunyi.diagnosis.fhir import (
    SECURITY_LABEL_CODE,
    SECURITY_LABEL_SYSTEM,
    is_labelled,
    risk_assessment_resource,
    security_label_coding,
)
from yunyi.diagnosis.ml.inference import Suggestion
from yunyi.diagnosis.relabel import (
    RELABEL_CLIENT_ID,
    RelabelReport,
    SkippedSuggestion,
    suggestion_relabel,
    suggestions_relabel,
)
from yunyi.emr.models import ResourceVersion
from yunyi.emr.services import (
    record_create,
    record_delete,
    record_read,
    record_update,
    record_vread,
)

LABEL = {"system": SECURITY_LABEL_SYSTEM, "code": SECURITY_LABEL_CODE}


def _old_suggestion(patient_id: str) -> str:
    """A suggestion as the diagnosis app wrote it before the label: today's shape without meta."""
    suggestion = Suggestion(
        task="diabetes",
        version="2024.06.11-abc123",
        probability=0.71,
        risk_band="high",
        threshold=0.5,
        inputs_used=[
            {
                "input": "bmi",
                "value": 31.5,
                "unit": "kg/m2",
                "source": f"Patient/{patient_id}",
                "effective": "2024-03-02",
            }
        ],
        contributions=[],
        out_of_distribution=False,
    )
    resource = risk_assessment_resource(
        suggestion=suggestion,
        title="Type 2 diabetes",
        outcome="diabetes",
        patient_id=patient_id,
        occurred="2024-03-03T10:00:00+08:00",
    )
    del resource["meta"]
    return record_create(actor=SYSTEM, resource=resource).stored.id


def _other_source(patient_id: str) -> str:
    """A RiskAssessment another system wrote (a fracture risk score coded in SNOMED CT)."""
    resource = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": {"reference": f"Patient/{patient_id}"},
        "method": {"coding": [{"system": "http://snomed.info/sct", "code": "273393007"}]},
        "prediction": [{"outcome": {"text": "hip fracture"}, "probabilityDecimal": 0.04}],
    }
    return record_create(actor=SYSTEM, resource=resource).stored.id


def _read(resource_id: str) -> Any:
    return record_read(actor=SYSTEM, resource_type="RiskAssessment", resource_id=resource_id)


def _counts(report: RelabelReport) -> tuple[int, int, int, list[SkippedSuggestion]]:
    return report.found, report.relabelled, report.already_labelled, report.skipped


def _version_rows() -> int:
    return ResourceVersion.objects.filter(resource_type="RiskAssessment").count()


def _relabel_updates() -> Any:
    return AuditEntry.objects.filter(action="fhir.update", client_id=RELABEL_CLIENT_ID)


@dataclass
class Record:
    patient: Any
    patient_id: str
    suggestion_id: str


@pytest.fixture
def record(make_user: Any) -> Record:
    patient, patient_id = make_patient(make_user)
    return Record(patient, patient_id, _old_suggestion(patient_id))


def test_an_unlabelled_suggestion_gets_the_label_in_a_new_audited_version(record: Record) -> None:
    before = _read(record.suggestion_id)
    assert before.version_id == "1"
    assert not is_labelled(before.resource)

    report = suggestions_relabel()

    assert _counts(report) == (1, 1, 0, [])
    after = _read(record.suggestion_id)
    assert after.version_id == "2"
    assert after.resource["meta"]["security"] == [security_label_coding()]
    unchanged = {k: v for k, v in after.resource.items() if k != "meta"}
    assert unchanged == {k: v for k, v in before.resource.items() if k != "meta"}
    first = record_vread(
        actor=SYSTEM,
        resource_type="RiskAssessment",
        resource_id=record.suggestion_id,
        version_id="1",
    )
    assert first.resource is not None
    assert "security" not in first.resource["meta"]
    (entry,) = _relabel_updates()
    assert (entry.object_type, entry.object_id, entry.actor_role) == (
        "RiskAssessment",
        record.suggestion_id,
        "system",
    )
    assert entry.detail == {"version": "2", "patients": [record.patient_id]}


def test_once_labelled_the_patient_no_longer_reads_it_and_the_caring_doctor_does(
    record: Record, make_user: Any
) -> None:
    doctor = make_user(roles=["doctor"])
    grant(doctor, record.patient_id)
    path = f"RiskAssessment/{record.suggestion_id}"
    patient = user_client(record.patient, scope="patient/*.rs")
    assert patient.get_fhir(path).status_code == 200

    suggestions_relabel()

    assert patient.get_fhir(path).status_code == 404
    assert user_client(record.patient, scope="user/*.rs").get_fhir(path).status_code == 404
    doctor_read = user_client(doctor, scope="user/*.rs").get_fhir(path)
    assert doctor_read.status_code == 200
    assert LABEL.items() <= doctor_read.json()["meta"]["security"][0].items()


def test_a_risk_assessment_from_another_source_is_left_alone(record: Record) -> None:
    other = _other_source(record.patient_id)

    report = suggestions_relabel()

    assert _counts(report) == (1, 1, 0, [])
    stored = _read(other)
    assert stored.version_id == "1"
    assert "security" not in stored.resource["meta"]
    assert [e.object_id for e in _relabel_updates()] == [record.suggestion_id]


def test_a_second_run_changes_nothing(record: Record, make_user: Any) -> None:
    _, second_patient = make_patient(make_user)
    second = _old_suggestion(second_patient)
    suggestions_relabel(page_size=1)
    versions, updates = _version_rows(), _relabel_updates().count()
    assert updates == 2

    report = suggestions_relabel(page_size=1)

    assert _counts(report) == (2, 0, 2, [])
    assert (_version_rows(), _relabel_updates().count()) == (versions, updates)
    assert {_read(i).version_id for i in (record.suggestion_id, second)} == {"2"}


def test_paging_labels_every_suggestion_and_reports_progress(record: Record) -> None:
    more = [_old_suggestion(record.patient_id) for _ in range(4)]
    seen: list[tuple[int, int]] = []

    report = suggestions_relabel(page_size=2, on_page=lambda r: seen.append((r.visited, r.pending)))

    assert _counts(report) == (5, 5, 0, [])
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert all(is_labelled(_read(i).resource) for i in [record.suggestion_id, *more])


def test_the_command_prints_its_counts_and_a_dry_run_writes_nothing(record: Record) -> None:
    _other_source(record.patient_id)
    versions = _version_rows()
    out = StringIO()

    call_command("relabel-suggestions", "--dry-run", stdout=out, stderr=StringIO())

    assert out.getvalue().splitlines() == [
        "found: 1, would relabel: 1, already labelled: 0, skipped: 0"
    ]
    assert _version_rows() == versions
    assert not _relabel_updates().exists()
    assert not is_labelled(_read(record.suggestion_id).resource)

    out = StringIO()
    call_command("relabel-suggestions", stdout=out, stderr=StringIO())
    assert out.getvalue().splitlines() == [
        "found: 1, relabelled: 1, already labelled: 0, skipped: 0"
    ]
    out = StringIO()
    call_command("relabel-suggestions", stdout=out, stderr=StringIO())
    assert out.getvalue().splitlines() == [
        "found: 1, relabelled: 0, already labelled: 1, skipped: 0"
    ]


def test_the_command_refuses_a_page_size_below_one(record: Record) -> None:
    with pytest.raises(CommandError, match="--page-size"):
        call_command("relabel-suggestions", "--page-size", "0", stdout=StringIO())
    assert not is_labelled(_read(record.suggestion_id).resource)


def test_a_stale_version_is_relabelled_on_top_of_the_concurrent_change(record: Record) -> None:
    stale = _read(record.suggestion_id)
    changed = {**stale.resource, "mitigation": "weight loss programme"}
    record_update(
        actor=SYSTEM,
        resource_type="RiskAssessment",
        resource_id=record.suggestion_id,
        resource=changed,
    )
    report = RelabelReport()

    suggestion_relabel(actor=SYSTEM, stored=stale, report=report)

    assert _counts(report) == (0, 1, 0, [])
    current = _read(record.suggestion_id)
    assert current.version_id == "3"
    assert current.resource["mitigation"] == "weight loss programme"
    assert is_labelled(current.resource)


def test_a_stale_version_labelled_meanwhile_is_counted_and_not_written(record: Record) -> None:
    stale = _read(record.suggestion_id)
    labelled = {**stale.resource, "meta": {"security": [security_label_coding()]}}
    record_update(
        actor=SYSTEM,
        resource_type="RiskAssessment",
        resource_id=record.suggestion_id,
        resource=labelled,
    )
    report = RelabelReport()

    suggestion_relabel(actor=SYSTEM, stored=stale, report=report)

    assert _counts(report) == (0, 0, 1, [])
    assert _read(record.suggestion_id).version_id == "2"


def test_a_suggestion_deleted_meanwhile_is_skipped_and_reported(record: Record) -> None:
    stale = _read(record.suggestion_id)
    record_delete(actor=SYSTEM, resource_type="RiskAssessment", resource_id=record.suggestion_id)
    versions = _version_rows()
    report = RelabelReport()

    suggestion_relabel(actor=SYSTEM, stored=stale, report=report)

    assert report.skipped == [SkippedSuggestion(record.suggestion_id, "resource_deleted")]
    assert report.relabelled == 0
    assert _version_rows() == versions


def test_the_migration_relabels_an_existing_deployment(
    record: Record, capsys: pytest.CaptureFixture[str]
) -> None:
    migration = importlib.import_module("yunyi.diagnosis.migrations.0003_relabel_suggestions")

    class SchemaEditor:  # RunPython passes one; the migration only needs its connection
        def __init__(self) -> None:
            self.connection = connection

    migration.relabel_suggestions(apps, SchemaEditor())

    assert is_labelled(_read(record.suggestion_id).resource)
    assert "Suggestions: 1 found, 1 relabelled, 0 already labelled, 0 skipped" in (
        capsys.readouterr().out
    )
