"""RecordAccess rows projected from the audit trail (`yunyi.emr.access_log`): one row per patient
an audited record interaction touched, each naming its entry; none missed, none twice, and none
for entries of other kinds."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from tests.emr.api_support import system_client, user_client
from tests.emr.conftest import observation
from tests.support.at_once import at_once
from yunyi.audit.models import AuditEntry
from yunyi.audit.selectors import audit_chain_verify
from yunyi.audit.services import AuditContext, audit_record
from yunyi.emr import access_log
from yunyi.emr.access_log import project_pending
from yunyi.emr.care import patient_record_ensure
from yunyi.emr.models import RecordAccess, RecordAccessProgress
from yunyi.emr.policy import Actor
from yunyi.emr.trail import audit_interaction

pytestmark = pytest.mark.django_db

CONTEXT = AuditContext(actor_id="u-1", actor_role="doctor", client_id="app", address="10.0.0.1")


def _entry(patients: list[str] | None, action: str = "fhir.search") -> AuditEntry:
    detail: dict[str, Any] = {"ids": ["Observation/o-1"]}
    if patients is not None:
        detail["patients"] = patients
    entry = audit_record(context=CONTEXT, action=action, detail=detail)
    assert entry is not None
    return entry


def _rows() -> list[tuple[int, str]]:
    return sorted(RecordAccess.objects.values_list("audit_seq", "patient_id"))


def _progress() -> int:
    return RecordAccessProgress.objects.get(id=1).audit_seq


def test_each_patient_of_an_entry_gets_a_row_naming_it_at_its_time() -> None:
    many = [f"p-{n:03d}" for n in range(700)]
    first, second = _entry(many), _entry(["p-1", "张-2"])
    assert project_pending() == 702
    assert _rows() == sorted(
        [(first.seq, p) for p in many] + [(second.seq, "p-1"), (second.seq, "张-2")]
    )
    assert set(RecordAccess.objects.filter(audit_seq=second.seq).values_list("at", flat=True)) == {
        second.at
    }
    assert _progress() == second.seq


def test_entries_of_other_kinds_or_without_patients_give_no_rows() -> None:
    _entry(["p-1"], action="auth.login")
    _entry(None)
    _entry([])
    named = _entry(["p-2"], action="fhir.read")
    assert project_pending() == 1
    assert _rows() == [(named.seq, "p-2")]


def test_projecting_again_writes_nothing_twice() -> None:
    entries = [_entry([f"p-{n}"]) for n in range(3)]
    assert project_pending() == 3
    assert project_pending() == 0
    later = _entry(["p-9"])
    assert project_pending() == 1
    assert _rows() == [(e.seq, f"p-{n}") for n, e in enumerate(entries)] + [(later.seq, "p-9")]
    assert _progress() == later.seq


def test_a_backlog_is_projected_in_batches_with_the_same_rows() -> None:
    entries = [_entry([f"p-{n}", "p-shared"]) for n in range(7)]
    assert project_pending(batch=2) == 14
    expected = [(e.seq, p) for n, e in enumerate(entries) for p in (f"p-{n}", "p-shared")]
    assert _rows() == sorted(expected)
    assert _progress() == entries[-1].seq


def test_a_rolled_back_entry_is_never_projected_and_its_number_is_not_skipped() -> None:
    kept = _entry(["p-1"])
    with pytest.raises(RuntimeError), transaction.atomic():
        _entry(["p-gone"])
        raise RuntimeError("the interaction failed")
    assert project_pending() == 1
    again = _entry(["p-2"])  # takes the rolled-back entry's number
    assert again.seq == kept.seq + 1
    assert project_pending() == 1
    assert _rows() == [(kept.seq, "p-1"), (again.seq, "p-2")]
    assert audit_chain_verify().intact


def test_every_hundredth_interaction_projects_the_backlog_once_committed(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    actor = Actor.system(client_id="lab")
    _entry(["p-0"])  # the progress row, and seq 1
    project_pending()
    for n in range(access_log.PROJECT_EVERY - 3):  # up to seq PROJECT_EVERY - 2
        _entry([f"p-{n}"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        audit_interaction(actor=actor, interaction="read", patients=["p-a"])
    assert callbacks == []  # seq PROJECT_EVERY - 1: not yet
    assert RecordAccess.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        audit_interaction(actor=actor, interaction="read", patients=["p-b"])
    assert len(callbacks) == 1
    assert RecordAccess.objects.count() == access_log.PROJECT_EVERY
    assert _progress() == access_log.PROJECT_EVERY


def test_a_failed_projection_after_commit_leaves_the_interaction_done(
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(**_kwargs: Any) -> int:
        raise RuntimeError("projection failed")

    monkeypatch.setattr(access_log, "PROJECT_EVERY", 1)
    monkeypatch.setattr(access_log, "project_pending", broken)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        audit_interaction(actor=Actor.system(client_id="lab"), interaction="read", patients=["p"])
    assert AuditEntry.objects.filter(action="fhir.read").count() == 1
    assert "projection failed" in caplog.text
    monkeypatch.undo()
    assert project_pending() == 1  # the next projection catches up


def test_a_patient_sees_a_read_of_their_record_at_once(make_user: Any) -> None:
    patient = make_user(roles=["patient"])
    patient_record_ensure(user=patient)
    writer = system_client()
    created = writer.post_fhir("Observation", observation(patient=str(patient.pk)))
    assert created.status_code == 201
    read = writer.get_fhir(f"Observation/{created.json()['id']}")
    assert read.status_code == 200
    # No projection has run since: the patient's query brings the rows up to date first.
    assert not RecordAccess.objects.exists()
    events = user_client(patient, scope="patient/*.rs").get_fhir(
        f"AuditEvent?patient=Patient/{patient.pk}"
    )
    assert events.status_code == 200, events.content
    actions = [e["resource"]["subtype"][0]["code"] for e in events.json().get("entry", [])]
    assert actions == ["fhir.read", "fhir.create", "fhir.update"]  # newest first; the update: the
    # patient record patient_record_ensure wrote


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_projections_running_at_once_write_each_row_once() -> None:
    assert connection.vendor == "postgresql"
    entries = [_entry([f"p-{n}", "p-shared"]) for n in range(40)]
    outcomes = at_once(lambda _n: project_pending(batch=7), 4)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o for o in outcomes if isinstance(o, int)) == 80
    expected = [(e.seq, p) for n, e in enumerate(entries) for p in (f"p-{n}", "p-shared")]
    assert _rows() == sorted(expected)
