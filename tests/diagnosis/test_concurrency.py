"""Two requests showing the same suggestion at once write one RiskAssessment and one feedback row
(the unique constraint settles the race); two concurrent decisions: one wins, one is refused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from tests.diagnosis.record_helpers import SYSTEM, pima_patient
from yunyi.audit.services import AuditContext
from yunyi.core.errors import ApplicationError
from yunyi.diagnosis.models import SuggestionDecision, SuggestionFeedback
from yunyi.diagnosis.services import suggestion_feedback_give, suggestions_show
from yunyi.emr.services import record_search


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # the outcome is asserted by the caller
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_showings_write_one_risk_assessment(registry: Path, make_user: Any) -> None:
    assert connection.vendor == "postgresql"
    case = pima_patient(make_user)
    show = lambda: suggestions_show(  # noqa: E731
        user=case.doctor, patient_id=case.patient_id, task="pima_diabetes"
    )
    results = _together([show, show, show])
    assert all(isinstance(r, list) for r in results), results
    ids = {r[0].feedback.risk_assessment_id for r in results}
    assert len(ids) == 1, results
    assert SuggestionFeedback.objects.count() == 1
    found = record_search(
        actor=SYSTEM,
        resource_type="RiskAssessment",
        params=[("patient", f"Patient/{case.patient_id}")],
    )
    assert [r.id for r in found.page.resources] == list(ids)


def test_concurrent_decisions_one_wins(registry: Path, make_user: Any) -> None:
    case = pima_patient(make_user)
    (shown,) = suggestions_show(user=case.doctor, patient_id=case.patient_id, task="pima_diabetes")
    assert shown.feedback is not None
    suggestion_id = shown.feedback.risk_assessment_id

    def decide(decision: SuggestionDecision) -> Callable[[], Any]:
        return lambda: suggestion_feedback_give(
            doctor=case.doctor,
            risk_assessment_id=suggestion_id,
            decision=decision,
            reason="",
            context=AuditContext(client_id="pytest"),
        )

    results = _together([decide(SuggestionDecision.ACCEPTED), decide(SuggestionDecision.DISMISSED)])
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert [e.code for e in refused] == ["feedback_already_given"]
    winner = next(r for r in results if isinstance(r, SuggestionFeedback))
    assert SuggestionFeedback.objects.get().decision == winner.decision
