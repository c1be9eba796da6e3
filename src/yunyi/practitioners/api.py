"""`/api/v1/doctors...`: doctor search and profiles, a doctor's own profile and schedule, the
licence review queue."""

from ninja import Router

router = Router(tags=["doctors"])
