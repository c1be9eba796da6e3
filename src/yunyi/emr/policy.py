"""Who may do what with the medical record: one decision per (actor, resource type, interaction),
then a check of each resource against it.

Decisions (see the README's design notes):
- Users and FHIR resources: the Patient resource of a user has the user's UUID as its id (and the
  identifier ``urn:yunyi:user|<uuid>``), a practitioner is ``Practitioner/<user uuid>``, matching
  the `fhirUser` claim the identity provider releases.
- A patient reaches their own record and their wards' (guardian); a doctor or pharmacist reaches
  the records of patients they have a care relationship with (an active `CareRelationship` row or
  the patient's active `Consent` naming them), or any record with break-the-glass (a reason,
  audited as an alert); admins and operators reach directory resources (Practitioner,
  Organization, ...) and the audit trail, never clinical data; `system/` scopes (back-end clients)
  reach everything their scopes name.
- SMART v2 scopes narrow every token: `patient/` to the compartments of the user's own and wards'
  records (to the one patient of a SMART launch, `launch/patient`, when the token carries one,
  and only while the user may still open it), `user/` to the user's own rights, `system/` for
  clients without a user. Internal calls (another app acting for a user, `scopes=None`) get the
  user's own rights.
- Patients may write only what they report themselves (`PATIENT_WRITABLE`); clinicians may not
  write Consent (a doctor cannot grant themselves access) or Patient (identity comes from
  real-name verification).
- Resources carrying a security label (`meta.security`) listed in
  `EMR_PATIENT_HIDDEN_SECURITY_LABELS` ("system|code") are for clinicians only: patients and
  guardians (user rights without a clinician role) and `patient/` scoped tokens never get them, as
  if they did not exist (`Access.hidden_labels`). The record knows labels, not the apps that set
  them (diagnosis labels its suggestions; settings.py lists that label unless patients may see
  them).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _

from yunyi.accounts.roles import Role
from yunyi.audit.services import AuditContext
from yunyi.core.errors import ApplicationError
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.search.compartment import compartment_patients, is_clinical, is_directory
from yunyi.identity.scopes import matching_scopes

if TYPE_CHECKING:
    from yunyi.accounts.models import User

USER_IDENTIFIER_SYSTEM: Final = "urn:yunyi:user"
CLINICIAN_ROLES: Final = frozenset({Role.DOCTOR, Role.PHARMACIST})
OWNER_ROLES: Final = frozenset({Role.PATIENT, Role.GUARDIAN})
MANAGER_ROLES: Final = frozenset({Role.ADMIN})
PATIENT_WRITABLE: Final = frozenset(
    {"Consent", "Observation", "DocumentReference", "QuestionnaireResponse"}
)
CLINICIAN_UNWRITABLE: Final = frozenset({"Consent", "Patient"})
AUDIT_TYPE: Final = "AuditEvent"
MAX_BREAK_GLASS_REASON: Final = 500


class Interaction(StrEnum):
    READ = "read"
    VREAD = "vread"
    SEARCH = "search-type"
    HISTORY = "history"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"

    @property
    def permission(self) -> str:
        """The SMART v2 permission letter (c r u d s) this interaction needs."""
        return _PERMISSIONS[self]

    @property
    def writes(self) -> bool:
        return self in (Interaction.CREATE, Interaction.UPDATE, Interaction.DELETE)


_PERMISSIONS: Final = {
    Interaction.READ: "r",
    Interaction.VREAD: "r",
    Interaction.HISTORY: "r",
    Interaction.SEARCH: "s",
    Interaction.CREATE: "c",
    Interaction.UPDATE: "u",
    Interaction.DELETE: "d",
}


def patient_id_for_user(user: Any) -> str:
    """The id of the user's own Patient resource."""
    return str(user.pk)


def practitioner_reference(user: Any) -> str:
    return f"Practitioner/{user.pk}"


@dataclass(frozen=True)
class Actor:
    """Who acts on the record: a user (through a client, with a token's scopes) or a back-end
    client (`user` None). `scopes` None means an internal call with the user's own rights (or all
    rights for a back-end actor such as the importer)."""

    user: User | None
    client_id: str = ""
    scopes: frozenset[str] | None = None
    # The patient a SMART launch bound the token to (`launch/patient`): `patient/` scopes reach
    # this compartment only.
    launch_patient: str | None = None
    break_glass_reason: str = ""
    address: str = ""
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def for_user(
        cls, user: User, *, client_id: str = "yunyi", break_glass_reason: str = ""
    ) -> Actor:
        """An internal call on behalf of `user` (consultations, diagnosis, rentals)."""
        return cls(user=user, client_id=client_id, break_glass_reason=break_glass_reason)

    @classmethod
    def system(cls, *, client_id: str) -> Actor:
        """A back-end actor with every right (the importer, the demo loader)."""
        return cls(user=None, client_id=client_id)

    @property
    def roles(self) -> frozenset[str]:
        if self.user is None:
            return frozenset()
        if "roles" not in self._memo:
            self._memo["roles"] = frozenset(self.user.role_set())
        roles: frozenset[str] = self._memo["roles"]
        return roles

    @property
    def role_label(self) -> str:
        """The role written to the audit trail."""
        if self.user is None:
            return "system"
        for role in (Role.DOCTOR, Role.PHARMACIST, Role.ADMIN, Role.GUARDIAN, Role.PATIENT):
            if role in self.roles:
                return str(role)
        return next(iter(sorted(self.roles)), "")

    def audit_context(self) -> AuditContext:
        return AuditContext(
            actor_id="" if self.user is None else str(self.user.pk),
            actor_role=self.role_label,
            client_id=self.client_id,
            address=self.address,
        )

    def own_patients(self) -> frozenset[str]:
        """The user's own Patient (if a patient) and their wards' Patients."""
        if "own" not in self._memo:
            found: set[str] = set()
            if self.user is not None and self.roles & OWNER_ROLES:
                from yunyi.accounts.selectors import wards_of

                if Role.PATIENT in self.roles:
                    found.add(patient_id_for_user(self.user))
                if Role.GUARDIAN in self.roles:
                    found.update(ward.id for ward in wards_of(guardian=self.user))
            self._memo["own"] = frozenset(found)
        own: frozenset[str] = self._memo["own"]
        return own

    def cared_patients(self) -> frozenset[str]:
        """Patients a clinician has a care relationship with now."""
        if "cared" not in self._memo:
            found: frozenset[str] = frozenset()
            if self.user is not None and self.roles & CLINICIAN_ROLES:
                from yunyi.emr.selectors import cared_patient_ids

                found = cared_patient_ids(practitioner=self.user, now=timezone.now())
            self._memo["cared"] = found
        cared: frozenset[str] = self._memo["cared"]
        return cared

    @property
    def may_break_glass(self) -> bool:
        return bool(self.break_glass_reason) and bool(self.roles & CLINICIAN_ROLES)


@dataclass(frozen=True)
class Access:
    """What one interaction on one type may reach. `patients` None: every record (no compartment
    filter); otherwise only resources in these patients' compartments (directory resources are not
    filtered). `filters` are search pairs from a query-restricted SMART scope, AND-ed to
    searches."""

    resource_type: str
    interaction: Interaction
    context: str  # "system", "user", "patient" or "internal": what granted it
    patients: frozenset[str] | None
    break_glass: bool = False
    filters: tuple[tuple[str, str], ...] = ()
    # Security labels (system, code) whose resources this access never reaches: they are treated
    # as absent (404, left out of searches), not refused, so their existence is not revealed.
    hidden_labels: tuple[tuple[str, str], ...] = ()

    @property
    def unrestricted(self) -> bool:
        return self.patients is None and not self.filters and not self.hidden_labels


def _denied(message: str) -> ApplicationError:
    return ApplicationError(EmrErrorCode.ACCESS_DENIED, message, status=403)


def _insufficient_scope(resource_type: str, interaction: Interaction) -> ApplicationError:
    return ApplicationError(
        EmrErrorCode.INSUFFICIENT_SCOPE,
        _("The access token's scopes do not allow %(interaction)s on %(type)s.")
        % {"interaction": interaction.value, "type": resource_type},
        status=403,
        headers={"WWW-Authenticate": 'Bearer realm="yunyi", error="insufficient_scope"'},
    )


def _scope_filters(query: str | None) -> tuple[tuple[str, str], ...]:
    if not query:
        return ()
    pairs = []
    for part in query.split("&"):
        name, _sep, value = part.partition("=")
        pairs.append((name, value))
    return tuple(pairs)


def _user_patients(
    actor: Actor, resource_type: str, interaction: Interaction
) -> frozenset[str] | None:
    """The compartments a user's own rights reach for a clinical type (None: every record, by
    break-the-glass)."""
    roles = actor.roles
    writes = interaction.writes
    owner = bool(roles & OWNER_ROLES) and (not writes or resource_type in PATIENT_WRITABLE)
    clinician = bool(roles & CLINICIAN_ROLES) and (
        not writes or resource_type not in CLINICIAN_UNWRITABLE
    )
    if not owner and not clinician:
        if roles & (OWNER_ROLES | CLINICIAN_ROLES):
            raise _denied(_("You may not write %(type)s resources.") % {"type": resource_type})
        raise _denied(_("Your role does not give access to clinical records."))
    if clinician and actor.may_break_glass:
        return None
    reached: set[str] = set()
    if owner:
        reached |= actor.own_patients()
    if clinician:
        reached |= actor.cared_patients()
    return frozenset(reached)


def _patient_context(actor: Actor) -> frozenset[str]:
    """The compartments `patient/` scopes reach: the launch patient when the token has one (if
    the user may still open that record: their own, or, after an EHR launch from a chart, one a
    clinician still cares for), else every record the user owns."""
    own = actor.own_patients()
    if actor.launch_patient is None:
        return own
    if actor.roles & CLINICIAN_ROLES and actor.launch_patient in actor.cared_patients():
        return frozenset({actor.launch_patient})
    return own & {actor.launch_patient}


def _rights(actor: Actor, resource_type: str, interaction: Interaction, context: str) -> Access:
    """The actor's own rights for `context` ("user", "patient" or "internal")."""
    if actor.user is None:
        return Access(resource_type, interaction, context, None)
    if resource_type == AUDIT_TYPE:
        if interaction.writes:
            raise _denied(_("The audit trail is read-only."))
        if actor.roles & MANAGER_ROLES and context != "patient":
            return Access(resource_type, interaction, context, None)
        if actor.roles & OWNER_ROLES:
            reached = _patient_context(actor) if context == "patient" else actor.own_patients()
            return Access(resource_type, interaction, context, reached)
        raise _denied(_("Your role does not give access to the audit trail."))
    if is_directory(resource_type):
        if interaction.writes and not (actor.roles & MANAGER_ROLES and context != "patient"):
            raise _denied(_("Only administrators may change directory resources."))
        return Access(resource_type, interaction, context, None)
    if not is_clinical(resource_type):
        raise _denied(
            _("%(type)s resources are available to back-end clients only.")
            % {"type": resource_type}
        )
    if context == "patient":
        if interaction.writes and resource_type not in PATIENT_WRITABLE:
            raise _denied(_("You may not write %(type)s resources.") % {"type": resource_type})
        return Access(resource_type, interaction, context, _patient_context(actor))
    patients = _user_patients(actor, resource_type, interaction)
    return Access(resource_type, interaction, context, patients, break_glass=patients is None)


def patient_hidden_labels() -> tuple[tuple[str, str], ...]:
    """The (system, code) security labels of `EMR_PATIENT_HIDDEN_SECURITY_LABELS`."""
    labels: list[tuple[str, str]] = []
    for entry in getattr(settings, "EMR_PATIENT_HIDDEN_SECURITY_LABELS", ()):
        system, separator, code = str(entry).partition("|")
        if not separator or not system or not code:
            raise ImproperlyConfigured(
                f"EMR_PATIENT_HIDDEN_SECURITY_LABELS entries are system|code, got {entry!r}"
            )
        labels.append((system, code))
    return tuple(labels)


def _with_hidden_labels(actor: Actor, access: Access) -> Access:
    """`access` with the labels hidden from patients when it was granted for a patient: a
    `patient/` scope, or the own rights of a user who is no clinician (a patient or guardian).
    Clinicians, administrators (directory only) and back-end clients see every label."""
    if actor.user is None:
        return access
    if access.context != "patient" and (
        actor.roles & CLINICIAN_ROLES or not actor.roles & OWNER_ROLES
    ):
        return access
    labels = patient_hidden_labels()
    return replace(access, hidden_labels=labels) if labels else access


def access_for(actor: Actor, *, resource_type: str, interaction: Interaction) -> Access:
    """The access `actor` has for `interaction` on `resource_type`, or an ApplicationError 403
    (insufficient_scope: the token does not allow it; access_denied: the actor may not)."""
    if actor.scopes is None:
        return _with_hidden_labels(actor, _rights(actor, resource_type, interaction, "internal"))
    permission = interaction.permission
    # The broadest context first: system (clients without a user), then user, then patient.
    contexts = ("system",) if actor.user is None else ("user", "patient")
    for context in contexts:
        scopes = matching_scopes(
            actor.scopes, context=context, resource_type=resource_type, permission=permission
        )
        if not scopes:
            continue
        unrestricted = any(scope.query is None for scope in scopes)
        filters = () if unrestricted else _scope_filters(scopes[0].query)
        if filters and interaction.writes:
            continue
        if context == "system":
            return Access(resource_type, interaction, context, None, filters=filters)
        granted = _rights(actor, resource_type, interaction, context)
        return _with_hidden_labels(
            actor,
            Access(
                granted.resource_type,
                interaction,
                context,
                granted.patients,
                break_glass=granted.break_glass,
                filters=filters,
            ),
        )
    raise _insufficient_scope(resource_type, interaction)


def resource_allowed(
    access: Access, resource: dict[str, Any] | None, *, local_base: str | None = None
) -> bool:
    """Whether one resource (a version's document) lies within `access`. Query-restricted scopes
    are checked by the caller with a search."""
    if access.patients is None or resource is None:
        return True
    resource_type = str(resource.get("resourceType"))
    if not is_clinical(resource_type):
        return True
    return bool(compartment_patients(resource, local_base=local_base) & access.patients)


def is_hidden(access: Access, resource: dict[str, Any] | None) -> bool:
    """Whether `resource` carries a security label `access` never reaches."""
    if not access.hidden_labels or not isinstance(resource, dict):
        return False
    meta = resource.get("meta")
    security = meta.get("security") if isinstance(meta, dict) else None
    if not isinstance(security, list):
        return False
    return any(
        isinstance(coding, dict)
        and (coding.get("system"), coding.get("code")) in access.hidden_labels
        for coding in security
    )


def check_resource(
    access: Access, resource: dict[str, Any] | None, *, local_base: str | None = None
) -> None:
    if not resource_allowed(access, resource, local_base=local_base):
        raise _denied(_("You may not access this patient's record."))


def break_glass_reason(header: str | None) -> str:
    """The reason from an `X-Break-Glass-Reason` header: printable text, at most 500 characters."""
    if not header:
        return ""
    cleaned = "".join(ch for ch in header if ch.isprintable()).strip()
    return cleaned[:MAX_BREAK_GLASS_REASON]


def consent_is_active(
    resource: dict[str, Any], *, practitioner: str, now: datetime
) -> tuple[bool, str | None]:
    """(whether `resource`, a Consent, permits `practitioner` now, the patient id it is about).
    Active status, a top-level permit (or no type), the practitioner among provision actors and
    `now` inside the provision period when one is given."""
    from yunyi.emr.search.dates import DateFormatError, period_range

    patient = compartment_patients(resource)
    patient_id = next(iter(patient), None)
    provision = resource.get("provision") or {}
    if resource.get("status") != "active" or provision.get("type", "permit") != "permit":
        return False, patient_id
    actors = [
        (entry.get("reference") or {}).get("reference")
        for entry in provision.get("actor") or []
        if isinstance(entry, dict)
    ]
    if practitioner not in actors:
        return False, patient_id
    period = provision.get("period")
    if isinstance(period, dict):
        try:
            span = period_range(period)
        except DateFormatError:
            return False, patient_id
        if span is not None and not span[0] <= now < span[1]:
            return False, patient_id
    return True, patient_id
