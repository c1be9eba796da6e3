"""Reads of matching: the process-wide doctor index, what a patient's search needs from other
apps (availability, cards, continuity), demand points and assignment runs."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from yunyi.emr import selectors as emr_selectors
from yunyi.matching.conf import matching_config
from yunyi.matching.live_index import LiveDoctorIndex
from yunyi.matching.models import AssignmentRun, DemandPoint
from yunyi.matching.ranking import Availability, AvailabilityLookup, TimeWindow
from yunyi.practitioners import selectors as practitioners


@functools.cache
def live_index() -> LiveDoctorIndex:
    """This process's doctor index (built on first use, refreshed every interval)."""
    return LiveDoctorIndex(
        practitioners.matching_changes_since, refresh_seconds=matching_config().refresh_seconds
    )


def availability_lookup(mode: str, queue_minutes_per_patient: float) -> AvailabilityLookup:
    """Availability of candidate doctors, one practitioners call per candidate batch; an online
    doctor's expected wait is the queue ahead times the minutes per patient."""

    def lookup(doctor_ids: Sequence[str], window: TimeWindow) -> Mapping[str, Availability]:
        found = practitioners.doctor_availability(doctor_ids, mode, window.start, window.end)
        return {
            doctor_id: Availability(
                next_slot_at=free.next_slot_at,
                online=free.online,
                expected_wait_minutes=free.queue_length * queue_minutes_per_patient,
            )
            for doctor_id, free in found.items()
        }

    return lookup


def doctor_cards(doctor_ids: Sequence[str]) -> dict[str, Any]:
    return dict(practitioners.doctor_cards(doctor_ids))


def previous_doctor_ids(*, patient_id: str, now: datetime) -> frozenset[str]:
    """Doctors who have cared for the patient: a live care relationship or the patient's active
    Consent naming them (doctor ids are their user ids, as in `Practitioner/<id>`). Read through
    `emr.selectors.practitioner_ids_for_patient` (the consultations app will add recent
    consultations there)."""
    return emr_selectors.practitioner_ids_for_patient(patient_id=patient_id, now=now)


def demand_points(
    *, since: datetime, until: datetime, department: str | None
) -> QuerySet[DemandPoint]:
    rows = DemandPoint.objects.filter(recorded_at__gte=since, recorded_at__lt=until)
    if department:
        rows = rows.filter(department=department)
    return rows


def assignment_run(*, run_id: str) -> AssignmentRun | None:
    return AssignmentRun.objects.filter(pk=run_id).first()
