"""What matching stores: coarse demand points for service regions, pending home-visit requests,
and the audited batch-assignment runs over them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Demand and request locations are kept to 2 decimals of a degree (~1.1 km north-south): enough
# for regions and dispatch, too coarse to find a home.
COARSE_DECIMALS = 2


class DemandPoint(models.Model):
    """One recommendation query's coarsened location: who asked is never stored (privacy), only
    where (rounded to ~1 km), for which department and when (rounded to the hour)."""

    lat = models.DecimalField(max_digits=5, decimal_places=COARSE_DECIMALS)
    lon = models.DecimalField(max_digits=6, decimal_places=COARSE_DECIMALS)
    department = models.CharField(max_length=64)
    mode = models.CharField(max_length=20)
    recorded_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["department", "recorded_at"], name="matching_demand_dept")]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="matching_demand_coordinates",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.lat},{self.lon} {self.recorded_at:%Y-%m-%d %H:00}"


class HomeVisitStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ASSIGNED = "assigned", _("Assigned")
    CANCELLED = "cancelled", _("Cancelled")


class HomeVisitRequest(models.Model):
    """A patient's request for a home visit on a day, waiting for a doctor.

    Interim home: the consultations app will own requests (booking, lifecycle) once it lands;
    matching then reads them through its selectors and keeps only `AssignmentRun`. The location
    is coarse (~1 km), which is all assignment needs; the address stays with the booking."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="home_visit_requests"
    )
    lat = models.DecimalField(max_digits=5, decimal_places=COARSE_DECIMALS)
    lon = models.DecimalField(max_digits=6, decimal_places=COARSE_DECIMALS)
    department = models.CharField(max_length=64)
    wanted_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=HomeVisitStatus.choices, default=HomeVisitStatus.PENDING
    )
    assigned_doctor_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["wanted_on", "department", "status"], name="matching_hvr_day")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="matching_hvr_coordinates",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.wanted_on} {self.status}"


class AssignmentRun(models.Model):
    """One batch assignment an operator ran: its inputs, the min-cost-flow plan, and the greedy
    nearest-first baseline's totals on the same input, for comparison. Audited."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    wanted_on = models.DateField()
    department = models.CharField(max_length=64, blank=True)  # blank: every department
    applied = models.BooleanField(default=False)  # the requests were marked assigned
    requests = models.PositiveIntegerField()
    doctors = models.PositiveIntegerField()
    assigned = models.PositiveIntegerField()
    unassigned = models.PositiveIntegerField()
    travel_km = models.FloatField()
    wait_minutes = models.FloatField()
    cost = models.FloatField()
    greedy_travel_km = models.FloatField()
    greedy_wait_minutes = models.FloatField()
    greedy_cost = models.FloatField()
    greedy_unassigned = models.PositiveIntegerField()
    over_capacity = models.PositiveIntegerField()
    seconds = models.FloatField()
    # [{"doctor_id", "lat", "lon", "capacity", "load"}] and
    # [{"request_id", "lat", "lon", "department", "doctor_id" | None, "km" | None}]
    doctor_loads = models.JSONField(default=list)
    plan = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"{self.wanted_on} {self.department or '*'} {self.assigned}/{self.requests}"
