"""`/api/v1/diagnosis/...`: suggestions from a patient's record, symptom triage, model registry."""

from ninja import Router

router = Router(tags=["diagnosis"])
