"""The scope catalogue, in one place: OpenID Connect scopes and SMART App Launch v2 scopes.

SMART v2 resource scopes follow the grammar (SMART App Launch 2.0, "Scopes for requesting
clinical data")::

    (patient|user|system) "/" (<FHIR resource type> | "*") "." <permissions> ["?" <query>]

where <permissions> is a non-empty subset of "cruds" written in that order (``rs``, ``cud``,
``cruds``). The SMART v1 forms ``.read``, ``.write`` and ``.*`` are accepted and mean ``rs``,
``cud`` and ``cruds``. A ``?param=value`` suffix narrows the scope to matching resources; it is
kept as text for the record's API to apply.

This module has no Django model or django-oauth-toolkit imports (settings import it), only lazy
translations for the human descriptions shown on the consent page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CONTEXTS: Final = ("patient", "user", "system")
# SMART standalone launch: the token carries the patient chosen at consent (`patient`).
LAUNCH_PATIENT_SCOPE: Final = "launch/patient"
# SMART EHR launch: the token carries the patient of the chart the app was launched from.
LAUNCH_SCOPE: Final = "launch"
PERMISSION_ORDER: Final = "cruds"
V1_PERMISSIONS: Final[dict[str, str]] = {"read": "rs", "write": "cud", "*": "cruds"}

# FHIR R4 (4.0.1) resource types: a scope naming anything else is unknown (invalid_scope).
FHIR_R4_RESOURCE_TYPES: Final[frozenset[str]] = frozenset(
    [
        "Account",
        "ActivityDefinition",
        "AdverseEvent",
        "AllergyIntolerance",
        "Appointment",
        "AppointmentResponse",
        "AuditEvent",
        "Basic",
        "Binary",
        "BiologicallyDerivedProduct",
        "BodyStructure",
        "Bundle",
        "CapabilityStatement",
        "CarePlan",
        "CareTeam",
        "CatalogEntry",
        "ChargeItem",
        "ChargeItemDefinition",
        "Claim",
        "ClaimResponse",
        "ClinicalImpression",
        "CodeSystem",
        "Communication",
        "CommunicationRequest",
        "CompartmentDefinition",
        "Composition",
        "ConceptMap",
        "Condition",
        "Consent",
        "Contract",
        "Coverage",
        "CoverageEligibilityRequest",
        "CoverageEligibilityResponse",
        "DetectedIssue",
        "Device",
        "DeviceDefinition",
        "DeviceMetric",
        "DeviceRequest",
        "DeviceUseStatement",
        "DiagnosticReport",
        "DocumentManifest",
        "DocumentReference",
        "EffectEvidenceSynthesis",
        "Encounter",
        "Endpoint",
        "EnrollmentRequest",
        "EnrollmentResponse",
        "EpisodeOfCare",
        "EventDefinition",
        "Evidence",
        "EvidenceVariable",
        "ExampleScenario",
        "ExplanationOfBenefit",
        "FamilyMemberHistory",
        "Flag",
        "Goal",
        "GraphDefinition",
        "Group",
        "GuidanceResponse",
        "HealthcareService",
        "ImagingStudy",
        "Immunization",
        "ImmunizationEvaluation",
        "ImmunizationRecommendation",
        "ImplementationGuide",
        "InsurancePlan",
        "Invoice",
        "Library",
        "Linkage",
        "List",
        "Location",
        "Measure",
        "MeasureReport",
        "Media",
        "Medication",
        "MedicationAdministration",
        "MedicationDispense",
        "MedicationKnowledge",
        "MedicationRequest",
        "MedicationStatement",
        "MedicinalProduct",
        "MedicinalProductAuthorization",
        "MedicinalProductContraindication",
        "MedicinalProductIndication",
        "MedicinalProductIngredient",
        "MedicinalProductInteraction",
        "MedicinalProductManufactured",
        "MedicinalProductPackaged",
        "MedicinalProductPharmaceutical",
        "MedicinalProductUndesirableEffect",
        "MessageDefinition",
        "MessageHeader",
        "MolecularSequence",
        "NamingSystem",
        "NutritionOrder",
        "Observation",
        "ObservationDefinition",
        "OperationDefinition",
        "OperationOutcome",
        "Organization",
        "OrganizationAffiliation",
        "Parameters",
        "Patient",
        "PaymentNotice",
        "PaymentReconciliation",
        "Person",
        "PlanDefinition",
        "Practitioner",
        "PractitionerRole",
        "Procedure",
        "Provenance",
        "Questionnaire",
        "QuestionnaireResponse",
        "RelatedPerson",
        "RequestGroup",
        "ResearchDefinition",
        "ResearchElementDefinition",
        "ResearchStudy",
        "ResearchSubject",
        "RiskAssessment",
        "RiskEvidenceSynthesis",
        "Schedule",
        "SearchParameter",
        "ServiceRequest",
        "Slot",
        "Specimen",
        "SpecimenDefinition",
        "StructureDefinition",
        "StructureMap",
        "Subscription",
        "Substance",
        "SubstanceNucleicAcid",
        "SubstancePolymer",
        "SubstanceProtein",
        "SubstanceReferenceInformation",
        "SubstanceSourceMaterial",
        "SubstanceSpecification",
        "SupplyDelivery",
        "SupplyRequest",
        "Task",
        "TerminologyCapabilities",
        "TestReport",
        "TestScript",
        "ValueSet",
        "VerificationResult",
        "VisionPrescription",
    ]
)

# Scopes that are not resource scopes: OpenID Connect and SMART launch context.
SCOPE_DESCRIPTIONS: Final[dict[str, Promise]] = {
    "openid": _("Sign you in"),
    "profile": _("Your name and profile"),
    "fhirUser": _("Know which person in the medical record you are"),
    "offline_access": _("Stay signed in when you are not using the app"),
    "launch/patient": _("Know which patient's record is open"),
    "launch": _("Open with the patient record you are viewing"),
}

# Scopes this server advertises in discovery (`scopes_supported`): the fixed scopes and the
# wildcard SMART forms; every concrete resource scope the grammar allows is accepted too.
ADVERTISED_SCOPES: Final[tuple[str, ...]] = (
    *SCOPE_DESCRIPTIONS,
    "patient/*.rs",
    "patient/*.cruds",
    "user/*.rs",
    "user/*.cruds",
    "system/*.rs",
    "system/*.cruds",
)

# What a client without an explicit policy may ask for.
DEFAULT_CLIENT_SCOPES: Final[tuple[str, ...]] = ("openid", "profile", "fhirUser", "offline_access")

_SCOPE_RE = re.compile(
    r"^(?P<context>patient|user|system)/(?P<resource>\*|[A-Z][A-Za-z]{1,63})"
    r"\.(?P<perms>[a-z]{1,5}|read|write|\*)(?:\?(?P<query>[^\s?#]+))?$"
)
# A query restriction is one or more `name=value` pairs joined by `&` (FHIR search syntax).
_QUERY_RE = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_.:-]*=[^&=\s]+(?:&[A-Za-z_][A-Za-z0-9_.:-]*=[^&=\s]+)*$"
)
MAX_SCOPE_LENGTH: Final = 512


@dataclass(frozen=True)
class SmartScope:
    """One parsed SMART resource scope. `resource_type` is "*" for every type; `query` is the
    text after "?" (a search restriction), or None."""

    context: str
    resource_type: str
    permissions: frozenset[str]
    query: str | None = None

    def covers(self, other: SmartScope) -> bool:
        """True when everything `other` grants is also granted by this scope."""
        if self.context != other.context:
            return False
        if self.resource_type not in ("*", other.resource_type):
            return False
        if not other.permissions <= self.permissions:
            return False
        # An unrestricted scope covers any narrower (query-restricted) one; a restricted scope
        # covers only the identical restriction.
        return self.query is None or self.query == other.query


def _permissions(text: str) -> frozenset[str] | None:
    if text in V1_PERMISSIONS:
        text = V1_PERMISSIONS[text]
    # "Ordered subset": each letter at most once and in the order c, r, u, d, s.
    positions = [PERMISSION_ORDER.find(letter) for letter in text]
    if not positions or -1 in positions or positions != sorted(set(positions)):
        return None
    return frozenset(text)


def parse_smart_scope(text: str) -> SmartScope | None:
    """Parse a SMART v2 (or v1) resource scope; None when `text` is not one."""
    if len(text) > MAX_SCOPE_LENGTH:
        return None
    match = _SCOPE_RE.match(text)
    if match is None:
        return None
    resource = match["resource"]
    if resource != "*" and resource not in FHIR_R4_RESOURCE_TYPES:
        return None
    permissions = _permissions(match["perms"])
    if permissions is None:
        return None
    query = match["query"]
    if query is not None and not _QUERY_RE.match(query):
        return None
    return SmartScope(match["context"], resource, permissions, query)


def is_known_scope(text: str) -> bool:
    return text in SCOPE_DESCRIPTIONS or parse_smart_scope(text) is not None


def is_system_scope(text: str) -> bool:
    parsed = parse_smart_scope(text)
    return parsed is not None and parsed.context == "system"


def scope_covers(allowed: str, requested: str) -> bool:
    """True when a client allowed `allowed` may be granted `requested` (a narrower or equal
    scope): fixed scopes match exactly, resource scopes by context, type, permissions, query."""
    if allowed == requested:
        return True
    allowed_smart = parse_smart_scope(allowed)
    requested_smart = parse_smart_scope(requested)
    if allowed_smart is None or requested_smart is None:
        return False
    return allowed_smart.covers(requested_smart)


def scopes_refused(
    requested: Iterable[str], *, allowed: Iterable[str], confidential: bool
) -> list[str]:
    """The requested scopes a client may not have: unknown ones, ones outside its allowed set,
    and `system/` scopes unless the client is confidential (SMART Backend Services)."""
    allowed_list = list(allowed)
    refused = []
    for scope in requested:
        known = is_known_scope(scope)
        backend_only = is_system_scope(scope) and not confidential
        allowed_here = any(scope_covers(granted, scope) for granted in allowed_list)
        if not known or backend_only or not allowed_here:
            refused.append(scope)
    return refused


def matching_scopes(
    granted: Iterable[str], *, context: str, resource_type: str, permission: str
) -> list[SmartScope]:
    """The granted resource scopes that allow `permission` (one of c r u d s) on
    `resource_type` in `context`, including query-restricted ones (the caller applies their
    `query` as an extra search filter)."""
    found = []
    for text in granted:
        parsed = parse_smart_scope(text)
        if (
            parsed is not None
            and parsed.context == context
            and parsed.resource_type in ("*", resource_type)
            and permission in parsed.permissions
        ):
            found.append(parsed)
    return found


def scopes_permit(
    granted: Iterable[str], *, context: str, resource_type: str, permission: str
) -> bool:
    """True when the granted scopes allow `permission` (c, r, u, d or s) on every
    `resource_type` resource in `context` ("patient", "user" or "system").

    Only unrestricted scopes count: a scope with a `?query` grants a subset, which the caller
    finds with `matching_scopes` and applies as a search filter.
    """
    if permission not in PERMISSION_ORDER or len(permission) != 1:
        raise ValueError(f"permission must be one of {', '.join(PERMISSION_ORDER)}")
    return any(
        scope.query is None
        for scope in matching_scopes(
            granted, context=context, resource_type=resource_type, permission=permission
        )
    )


_PERMISSION_PHRASES: Final[dict[frozenset[str], Promise]] = {
    frozenset("rs"): _("read and search"),
    frozenset("r"): _("read"),
    frozenset("s"): _("search"),
    frozenset("cruds"): _("read, search, create, change and delete"),
    frozenset("cud"): _("create, change and delete"),
    frozenset("c"): _("create"),
}


def _permission_phrase(permissions: frozenset[str]) -> str:
    known = _PERMISSION_PHRASES.get(permissions)
    if known is not None:
        return str(known)
    names = {
        "c": _("create"),
        "r": _("read"),
        "u": _("change"),
        "d": _("delete"),
        "s": _("search"),
    }
    return ", ".join(str(names[p]) for p in PERMISSION_ORDER if p in permissions)


def describe_scope(text: str) -> str:
    """A human description of a known scope (for the consent page), in the active language."""
    fixed = SCOPE_DESCRIPTIONS.get(text)
    if fixed is not None:
        return str(fixed)
    parsed = parse_smart_scope(text)
    if parsed is None:
        return text
    what = str(_("all records")) if parsed.resource_type == "*" else parsed.resource_type
    phrase = _permission_phrase(parsed.permissions)
    if parsed.context == "patient":
        description = _("%(permissions)s your %(what)s") % {"permissions": phrase, "what": what}
    elif parsed.context == "user":
        description = _("%(permissions)s %(what)s you may access") % {
            "permissions": phrase,
            "what": what,
        }
    else:
        description = _("%(permissions)s %(what)s for any patient (back-end service)") % {
            "permissions": phrase,
            "what": what,
        }
    if parsed.query:
        description = _("%(description)s, limited to %(query)s") % {
            "description": description,
            "query": parsed.query,
        }
    text = str(description)
    return text[:1].upper() + text[1:]


class ScopeCatalogue(Mapping[str, str]):
    """Scope name -> description for every scope the grammar accepts (lookups), iterating over
    the advertised ones; what django-oauth-toolkit's `get_all_scopes()` hands its views."""

    def __getitem__(self, key: str) -> str:
        if not is_known_scope(key):
            raise KeyError(key)
        return describe_scope(key)

    def __iter__(self) -> Iterator[str]:
        return iter(ADVERTISED_SCOPES)

    def __len__(self) -> int:
        return len(ADVERTISED_SCOPES)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and is_known_scope(key)
