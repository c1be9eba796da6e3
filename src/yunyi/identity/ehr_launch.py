"""SMART EHR launch (SMART App Launch 2.0 §"EHR launch"): a doctor opens a registered app from a
patient's chart. We mint a short-lived, single-use opaque `launch` id bound to (doctor, client,
patient) and hand the app its launch URL; /o/authorize then redeems the id and binds the patient
to the code and tokens exactly as a standalone launch does (`LaunchContext`).

Whether the doctor may open the patient's record is the record's decision: the API that starts a
launch lives in `yunyi.emr.smart_api`, reads the Patient through the record's policy between
`ehr_launch_target` and `ehr_launch_start`, so identity never imports the record."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import get_application_model

from yunyi.accounts.models import User
from yunyi.accounts.roles import Role
from yunyi.audit.services import AuditContext, audit_record
from yunyi.core.errors import ApplicationError, CoreErrorCode
from yunyi.identity.errors import IdentityErrorCode
from yunyi.identity.models import ClientPolicy, EhrLaunch
from yunyi.identity.selectors import token_checksum

LAUNCH_SECONDS = 300
MAX_LAUNCH_LENGTH = 128


@dataclass(frozen=True)
class LaunchableApp:
    client_id: str
    name: str


@dataclass(frozen=True)
class StartedLaunch:
    launch_url: str
    expires_in: int


class LaunchRefused(Exception):
    """A `launch` parameter /o/authorize cannot honour; `description` says why (for the app)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def _require_doctor(user: User) -> None:
    if Role.DOCTOR not in user.role_set():
        raise ApplicationError(
            CoreErrorCode.PERMISSION_DENIED, _("Only doctors launch apps from a chart."), status=403
        )


def _launchable() -> Any:
    return ClientPolicy.objects.filter(disabled_at__isnull=True).exclude(launch_uri="")


def launchable_apps(*, user: User) -> list[LaunchableApp]:
    """The registered apps a doctor may open from a patient's chart (enabled, with a launch URL)."""
    _require_doctor(user)
    policies = _launchable().select_related("application").order_by("application__name")
    return [LaunchableApp(p.application.client_id, p.application.name) for p in policies]


def fhir_base() -> str:
    return str(settings.BASE_URL).rstrip("/") + "/fhir/R4"


def _launch_url(launch_uri: str, launch_id: str) -> str:
    parts = urlsplit(launch_uri)
    query = urlencode({"iss": fhir_base(), "launch": launch_id})
    joined = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))


@dataclass(frozen=True)
class LaunchTarget:
    """A registered, enabled app with a launch URL, checked for a doctor to launch."""

    application: Any
    launch_uri: str


def ehr_launch_target(*, user: User, client_id: str) -> LaunchTarget:
    """The app `client_id` if this doctor may launch it: 403 for a non-doctor, 404 for an unknown
    or disabled app, 400 for an app without a launch URL."""
    _require_doctor(user)
    application = get_application_model().objects.filter(client_id=client_id).first()
    policy = ClientPolicy.objects.filter(application=application).first() if application else None
    if application is None or policy is None or policy.is_disabled:
        raise ApplicationError(
            IdentityErrorCode.INVALID_CLIENT, _("No such application."), status=404
        )
    if not policy.launch_uri:
        raise ApplicationError(
            IdentityErrorCode.NOT_LAUNCHABLE,
            _("This application has no launch URL and cannot be launched from a chart."),
        )
    return LaunchTarget(application, policy.launch_uri)


def ehr_launch_start(
    *, user: User, target: LaunchTarget, patient_id: str, context: AuditContext
) -> StartedLaunch:
    """Start an EHR launch of `target` for `patient_id`: the caller has checked, under the
    record's policy, that `user` may read that Patient."""
    launch_id = secrets.token_urlsafe(32)
    now = timezone.now()
    EhrLaunch.objects.filter(expires__lt=now - timedelta(days=1)).delete()
    EhrLaunch.objects.create(
        launch_checksum=token_checksum(launch_id),
        user=user,
        application=target.application,
        patient_id=patient_id,
        expires=now + timedelta(seconds=LAUNCH_SECONDS),
    )
    audit_record(
        context=context,
        action="smart.ehr_launch_started",
        object_type="oauth_client",
        object_id=target.application.client_id,
        detail={"patient": patient_id},
    )
    return StartedLaunch(_launch_url(target.launch_uri, launch_id), LAUNCH_SECONDS)


def _pending(*, launch_id: str, application: Any, user: Any) -> EhrLaunch:
    if not launch_id or len(launch_id) > MAX_LAUNCH_LENGTH:
        raise LaunchRefused("The launch parameter is missing or not valid.")
    launch = EhrLaunch.objects.filter(launch_checksum=token_checksum(launch_id)).first()
    if launch is None or launch.application_id != application.pk:
        raise LaunchRefused("Unknown launch: it was not issued to this client.")
    if launch.user_id != user.pk:
        raise LaunchRefused("This launch was started by another user.")
    if launch.used_at is not None:
        raise LaunchRefused("This launch was used before: launch the app again from the chart.")
    if launch.expires <= timezone.now():
        raise LaunchRefused("This launch has expired: launch the app again from the chart.")
    return launch


def ehr_launch_patient(*, launch_id: str, application: Any, user: Any) -> str:
    """The patient of a pending launch, checked (not used up); raises LaunchRefused."""
    return _pending(launch_id=launch_id, application=application, user=user).patient_id


def ehr_launch_redeem(*, launch_id: str, application: Any, user: Any) -> str:
    """Use a launch once (also under concurrency: only one conditional update wins) and return
    its patient; raises LaunchRefused."""
    launch = _pending(launch_id=launch_id, application=application, user=user)
    used = EhrLaunch.objects.filter(pk=launch.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not used:
        raise LaunchRefused("This launch was used before: launch the app again from the chart.")
    return launch.patient_id
