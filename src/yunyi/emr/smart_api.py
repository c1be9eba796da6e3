"""SMART EHR launch API under /api/v1 (for the web app's patient chart): the apps a doctor may
launch, and starting a launch. It lives with the record because starting a launch is the record's
decision (the doctor must be able to read the Patient); identity mints and redeems the launch."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from yunyi.accounts.models import User
from yunyi.accounts.schemas import ErrorOut
from yunyi.audit.services import AuditContext, audit_context_from_request
from yunyi.emr.policy import Actor
from yunyi.emr.services import record_read
from yunyi.identity.ehr_launch import ehr_launch_start, ehr_launch_target, launchable_apps

router = Router(tags=["smart"])


class LaunchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=100)
    patient: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-.]{1,64}$")


class LaunchOut(Schema):
    launch_url: str
    expires_in: int


class AppOut(Schema):
    client_id: str
    name: str


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def _context(request: HttpRequest) -> AuditContext:
    return audit_context_from_request(request, role="doctor")


@router.get("/smart/apps", response={200: list[AppOut], 403: ErrorOut})
def smart_apps(request: HttpRequest) -> list[AppOut]:
    return [
        AppOut(client_id=a.client_id, name=a.name) for a in launchable_apps(user=_user(request))
    ]


@router.post(
    "/smart/launches",
    response={201: LaunchOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def smart_launch(request: HttpRequest, payload: LaunchIn) -> Status[LaunchOut]:
    user, context = _user(request), _context(request)
    target = ehr_launch_target(user=user, client_id=payload.client_id)
    # Authorized and audited by the record; a patient the doctor may not see is its 403/404.
    record_read(
        actor=Actor.for_user(user, client_id=context.client_id or "yunyi"),
        resource_type="Patient",
        resource_id=payload.patient,
    )
    started = ehr_launch_start(
        user=user, target=target, patient_id=payload.patient, context=context
    )
    return Status(201, LaunchOut(launch_url=started.launch_url, expires_in=started.expires_in))
