"""Search parameters as data: what each FHIR R4 search parameter is called, its type and where its
values live in a resource (FHIR R4 §3.1.1 "Search", and each resource's "Search Parameters" table).

Expressions use a small FHIRPath subset evaluated by `yunyi.emr.search.paths`:
``Type.element.element`` (lists are flattened), unions with ``|``, choice elements by base name
(``Observation.effective`` reaches ``effectiveDateTime``, ``effectivePeriod``, ...) or one concrete
choice (``Observation.valueQuantity``), and one filter form ``.where(field='value')``. FHIRPath's
``where(resolve() is Patient)`` is expressed as the reference parameter's `targets`.

Adding a parameter is adding a row below; extraction, parsing, SQL and the CapabilityStatement all
read these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache


class ParamType(StrEnum):
    TOKEN = "token"
    STRING = "string"
    DATE = "date"
    REFERENCE = "reference"
    QUANTITY = "quantity"
    URI = "uri"
    NUMBER = "number"


@dataclass(frozen=True, slots=True)
class SearchParameter:
    """One search parameter of one resource type.

    `targets` lists the resource types a reference parameter may point to (empty: any type);
    references to other types are not indexed under this parameter. `column` names a parameter
    answered from the resource table itself rather than from index rows (`_id`, `_lastUpdated`).
    """

    resource_type: str
    name: str
    type: ParamType
    expression: str
    targets: tuple[str, ...] = ()
    column: str | None = None


T, S, D, R, Q, U, N = (
    ParamType.TOKEN,
    ParamType.STRING,
    ParamType.DATE,
    ParamType.REFERENCE,
    ParamType.QUANTITY,
    ParamType.URI,
    ParamType.NUMBER,
)

_PRACTITIONERS = ("Practitioner", "PractitionerRole")
_ACTORS = ("Practitioner", "PractitionerRole", "Organization", "Patient", "RelatedPerson", "Device")

# Parameters of every resource type (FHIR R4 §3.1.1.4 "Parameters for all resources").
COMMON: tuple[tuple[str, ParamType, str, tuple[str, ...], str | None], ...] = (
    ("_id", T, "Resource.id", (), "fhir_id"),
    ("_lastUpdated", D, "Resource.meta.lastUpdated", (), "last_updated"),
    ("_tag", T, "Resource.meta.tag", (), None),
    ("_profile", U, "Resource.meta.profile", (), None),
    ("_security", T, "Resource.meta.security", (), None),
)


def _address(t: str) -> list[tuple[str, ParamType, str]]:
    return [
        ("address", S, f"{t}.address"),
        ("address-city", S, f"{t}.address.city"),
        ("address-country", S, f"{t}.address.country"),
        ("address-postalcode", S, f"{t}.address.postalCode"),
        ("address-state", S, f"{t}.address.state"),
        ("address-use", T, f"{t}.address.use"),
    ]


def _person(t: str) -> list[tuple[str, ParamType, str]]:
    return [
        *_address(t),
        ("active", T, f"{t}.active"),
        ("birthdate", D, f"{t}.birthDate"),
        ("email", T, f"{t}.telecom.where(system='email')"),
        ("family", S, f"{t}.name.family"),
        ("gender", T, f"{t}.gender"),
        ("given", S, f"{t}.name.given"),
        ("identifier", T, f"{t}.identifier"),
        ("name", S, f"{t}.name"),
        ("phone", T, f"{t}.telecom.where(system='phone')"),
        ("telecom", T, f"{t}.telecom"),
    ]


# (name, type, expression[, targets]) per resource type, as in FHIR R4 4.0.1.
_TABLE: dict[str, list[tuple]] = {  # type: ignore[type-arg]
    "Patient": [
        *_person("Patient"),
        ("death-date", D, "Patient.deceasedDateTime"),
        (
            "general-practitioner",
            R,
            "Patient.generalPractitioner",
            ("Organization", *_PRACTITIONERS),
        ),
        ("language", T, "Patient.communication.language"),
        ("link", R, "Patient.link.other", ("Patient", "RelatedPerson")),
        ("organization", R, "Patient.managingOrganization", ("Organization",)),
    ],
    "Practitioner": [
        *[p for p in _person("Practitioner") if p[0] != "birthdate"],
        ("communication", T, "Practitioner.communication"),
    ],
    "PractitionerRole": [
        ("active", T, "PractitionerRole.active"),
        ("date", D, "PractitionerRole.period"),
        ("email", T, "PractitionerRole.telecom.where(system='email')"),
        ("endpoint", R, "PractitionerRole.endpoint", ("Endpoint",)),
        ("identifier", T, "PractitionerRole.identifier"),
        ("location", R, "PractitionerRole.location", ("Location",)),
        ("organization", R, "PractitionerRole.organization", ("Organization",)),
        ("phone", T, "PractitionerRole.telecom.where(system='phone')"),
        ("practitioner", R, "PractitionerRole.practitioner", ("Practitioner",)),
        ("role", T, "PractitionerRole.code"),
        ("service", R, "PractitionerRole.healthcareService", ("HealthcareService",)),
        ("specialty", T, "PractitionerRole.specialty"),
        ("telecom", T, "PractitionerRole.telecom"),
    ],
    "Organization": [
        *_address("Organization"),
        ("active", T, "Organization.active"),
        ("endpoint", R, "Organization.endpoint", ("Endpoint",)),
        ("identifier", T, "Organization.identifier"),
        ("name", S, "Organization.name | Organization.alias"),
        ("partof", R, "Organization.partOf", ("Organization",)),
        ("type", T, "Organization.type"),
    ],
    "Location": [
        *_address("Location"),
        ("endpoint", R, "Location.endpoint", ("Endpoint",)),
        ("identifier", T, "Location.identifier"),
        ("name", S, "Location.name | Location.alias"),
        ("operational-status", T, "Location.operationalStatus"),
        ("organization", R, "Location.managingOrganization", ("Organization",)),
        ("partof", R, "Location.partOf", ("Location",)),
        ("status", T, "Location.status"),
        ("type", T, "Location.type"),
    ],
    "Encounter": [
        ("appointment", R, "Encounter.appointment", ("Appointment",)),
        ("class", T, "Encounter.class"),
        ("date", D, "Encounter.period"),
        ("diagnosis", R, "Encounter.diagnosis.condition", ("Condition", "Procedure")),
        ("identifier", T, "Encounter.identifier"),
        ("length", Q, "Encounter.length"),
        ("location", R, "Encounter.location.location", ("Location",)),
        ("location-period", D, "Encounter.location.period"),
        ("part-of", R, "Encounter.partOf", ("Encounter",)),
        ("participant", R, "Encounter.participant.individual", (*_PRACTITIONERS, "RelatedPerson")),
        ("participant-type", T, "Encounter.participant.type"),
        ("patient", R, "Encounter.subject", ("Patient",)),
        ("practitioner", R, "Encounter.participant.individual", ("Practitioner",)),
        ("reason-code", T, "Encounter.reasonCode"),
        (
            "reason-reference",
            R,
            "Encounter.reasonReference",
            ("Condition", "Procedure", "Observation"),
        ),
        ("service-provider", R, "Encounter.serviceProvider", ("Organization",)),
        ("special-arrangement", T, "Encounter.hospitalization.specialArrangement"),
        ("status", T, "Encounter.status"),
        ("subject", R, "Encounter.subject", ("Patient", "Group")),
        ("type", T, "Encounter.type"),
    ],
    "Condition": [
        ("abatement-date", D, "Condition.abatementDateTime | Condition.abatementPeriod"),
        ("abatement-string", S, "Condition.abatementString"),
        (
            "asserter",
            R,
            "Condition.asserter",
            ("Practitioner", "PractitionerRole", "Patient", "RelatedPerson"),
        ),
        ("body-site", T, "Condition.bodySite"),
        ("category", T, "Condition.category"),
        ("clinical-status", T, "Condition.clinicalStatus"),
        ("code", T, "Condition.code"),
        ("encounter", R, "Condition.encounter", ("Encounter",)),
        ("evidence", T, "Condition.evidence.code"),
        ("evidence-detail", R, "Condition.evidence.detail"),
        ("identifier", T, "Condition.identifier"),
        ("onset-date", D, "Condition.onsetDateTime | Condition.onsetPeriod"),
        ("onset-info", S, "Condition.onsetString"),
        ("patient", R, "Condition.subject", ("Patient",)),
        ("recorded-date", D, "Condition.recordedDate"),
        ("severity", T, "Condition.severity"),
        ("stage", T, "Condition.stage.summary"),
        ("subject", R, "Condition.subject", ("Patient", "Group")),
        ("verification-status", T, "Condition.verificationStatus"),
    ],
    "Observation": [
        (
            "based-on",
            R,
            "Observation.basedOn",
            ("CarePlan", "DeviceRequest", "MedicationRequest", "ServiceRequest"),
        ),
        ("category", T, "Observation.category"),
        ("code", T, "Observation.code"),
        ("combo-code", T, "Observation.code | Observation.component.code"),
        (
            "combo-value-quantity",
            Q,
            "Observation.valueQuantity | Observation.component.valueQuantity",
        ),
        ("component-code", T, "Observation.component.code"),
        ("component-value-quantity", Q, "Observation.component.valueQuantity"),
        ("data-absent-reason", T, "Observation.dataAbsentReason"),
        ("date", D, "Observation.effective"),
        ("derived-from", R, "Observation.derivedFrom"),
        ("device", R, "Observation.device", ("Device", "DeviceMetric")),
        ("encounter", R, "Observation.encounter", ("Encounter",)),
        ("focus", R, "Observation.focus"),
        ("has-member", R, "Observation.hasMember", ("Observation", "QuestionnaireResponse")),
        ("identifier", T, "Observation.identifier"),
        ("method", T, "Observation.method"),
        ("part-of", R, "Observation.partOf"),
        ("patient", R, "Observation.subject", ("Patient",)),
        ("performer", R, "Observation.performer", (*_ACTORS[:-1], "CareTeam")),
        ("specimen", R, "Observation.specimen", ("Specimen",)),
        ("status", T, "Observation.status"),
        ("subject", R, "Observation.subject", ("Patient", "Group", "Device", "Location")),
        ("value-concept", T, "Observation.valueCodeableConcept"),
        ("value-date", D, "Observation.valueDateTime | Observation.valuePeriod"),
        ("value-quantity", Q, "Observation.valueQuantity"),
        ("value-string", S, "Observation.valueString"),
    ],
    "AllergyIntolerance": [
        (
            "asserter",
            R,
            "AllergyIntolerance.asserter",
            ("Practitioner", "PractitionerRole", "Patient", "RelatedPerson"),
        ),
        ("category", T, "AllergyIntolerance.category"),
        ("clinical-status", T, "AllergyIntolerance.clinicalStatus"),
        ("code", T, "AllergyIntolerance.code | AllergyIntolerance.reaction.substance"),
        ("criticality", T, "AllergyIntolerance.criticality"),
        ("date", D, "AllergyIntolerance.recordedDate"),
        ("identifier", T, "AllergyIntolerance.identifier"),
        ("last-date", D, "AllergyIntolerance.lastOccurrence"),
        ("manifestation", T, "AllergyIntolerance.reaction.manifestation"),
        ("onset", D, "AllergyIntolerance.reaction.onset"),
        ("patient", R, "AllergyIntolerance.patient", ("Patient",)),
        (
            "recorder",
            R,
            "AllergyIntolerance.recorder",
            ("Practitioner", "PractitionerRole", "Patient", "RelatedPerson"),
        ),
        ("route", T, "AllergyIntolerance.reaction.exposureRoute"),
        ("severity", T, "AllergyIntolerance.reaction.severity"),
        ("type", T, "AllergyIntolerance.type"),
        ("verification-status", T, "AllergyIntolerance.verificationStatus"),
    ],
    "MedicationRequest": [
        ("authoredon", D, "MedicationRequest.authoredOn"),
        ("category", T, "MedicationRequest.category"),
        ("code", T, "MedicationRequest.medicationCodeableConcept"),
        ("date", D, "MedicationRequest.dosageInstruction.timing.event"),
        ("encounter", R, "MedicationRequest.encounter", ("Encounter",)),
        ("identifier", T, "MedicationRequest.identifier"),
        ("intended-dispenser", R, "MedicationRequest.dispenseRequest.performer", ("Organization",)),
        ("intended-performer", R, "MedicationRequest.performer"),
        ("intended-performertype", T, "MedicationRequest.performerType"),
        ("intent", T, "MedicationRequest.intent"),
        ("medication", R, "MedicationRequest.medicationReference", ("Medication",)),
        ("patient", R, "MedicationRequest.subject", ("Patient",)),
        ("priority", T, "MedicationRequest.priority"),
        ("requester", R, "MedicationRequest.requester", _ACTORS),
        ("status", T, "MedicationRequest.status"),
        ("subject", R, "MedicationRequest.subject", ("Patient", "Group")),
    ],
    "DiagnosticReport": [
        (
            "based-on",
            R,
            "DiagnosticReport.basedOn",
            ("CarePlan", "MedicationRequest", "ServiceRequest"),
        ),
        ("category", T, "DiagnosticReport.category"),
        ("code", T, "DiagnosticReport.code"),
        ("conclusion", T, "DiagnosticReport.conclusionCode"),
        ("date", D, "DiagnosticReport.effective"),
        ("encounter", R, "DiagnosticReport.encounter", ("Encounter",)),
        ("identifier", T, "DiagnosticReport.identifier"),
        ("issued", D, "DiagnosticReport.issued"),
        ("media", R, "DiagnosticReport.media.link", ("Media",)),
        ("patient", R, "DiagnosticReport.subject", ("Patient",)),
        (
            "performer",
            R,
            "DiagnosticReport.performer",
            ("Practitioner", "PractitionerRole", "Organization", "CareTeam"),
        ),
        ("result", R, "DiagnosticReport.result", ("Observation",)),
        (
            "results-interpreter",
            R,
            "DiagnosticReport.resultsInterpreter",
            ("Practitioner", "PractitionerRole", "Organization", "CareTeam"),
        ),
        ("specimen", R, "DiagnosticReport.specimen", ("Specimen",)),
        ("status", T, "DiagnosticReport.status"),
        ("subject", R, "DiagnosticReport.subject", ("Patient", "Group", "Device", "Location")),
    ],
    "DocumentReference": [
        (
            "authenticator",
            R,
            "DocumentReference.authenticator",
            ("Practitioner", "PractitionerRole", "Organization"),
        ),
        ("author", R, "DocumentReference.author", _ACTORS),
        ("category", T, "DocumentReference.category"),
        ("contenttype", T, "DocumentReference.content.attachment.contentType"),
        ("custodian", R, "DocumentReference.custodian", ("Organization",)),
        ("date", D, "DocumentReference.date"),
        ("description", S, "DocumentReference.description"),
        ("encounter", R, "DocumentReference.context.encounter", ("Encounter", "EpisodeOfCare")),
        ("event", T, "DocumentReference.context.event"),
        ("facility", T, "DocumentReference.context.facilityType"),
        ("format", T, "DocumentReference.content.format"),
        ("identifier", T, "DocumentReference.masterIdentifier | DocumentReference.identifier"),
        ("language", T, "DocumentReference.content.attachment.language"),
        ("location", U, "DocumentReference.content.attachment.url"),
        ("patient", R, "DocumentReference.subject", ("Patient",)),
        ("period", D, "DocumentReference.context.period"),
        ("related", R, "DocumentReference.context.related"),
        ("relatesto", R, "DocumentReference.relatesTo.target", ("DocumentReference",)),
        ("relation", T, "DocumentReference.relatesTo.code"),
        ("security-label", T, "DocumentReference.securityLabel"),
        ("setting", T, "DocumentReference.context.practiceSetting"),
        ("status", T, "DocumentReference.status"),
        ("subject", R, "DocumentReference.subject", ("Patient", "Group", "Device", "Practitioner")),
        ("type", T, "DocumentReference.type"),
    ],
    "Procedure": [
        ("based-on", R, "Procedure.basedOn", ("CarePlan", "ServiceRequest")),
        ("category", T, "Procedure.category"),
        ("code", T, "Procedure.code"),
        ("date", D, "Procedure.performed"),
        ("encounter", R, "Procedure.encounter", ("Encounter",)),
        ("identifier", T, "Procedure.identifier"),
        ("instantiates-uri", U, "Procedure.instantiatesUri"),
        ("location", R, "Procedure.location", ("Location",)),
        (
            "part-of",
            R,
            "Procedure.partOf",
            ("Procedure", "Observation", "MedicationAdministration"),
        ),
        ("patient", R, "Procedure.subject", ("Patient",)),
        ("performer", R, "Procedure.performer.actor", _ACTORS),
        ("reason-code", T, "Procedure.reasonCode"),
        (
            "reason-reference",
            R,
            "Procedure.reasonReference",
            ("Condition", "Observation", "Procedure", "DiagnosticReport", "DocumentReference"),
        ),
        ("status", T, "Procedure.status"),
        ("subject", R, "Procedure.subject", ("Patient", "Group")),
    ],
    "Immunization": [
        ("date", D, "Immunization.occurrence"),
        ("identifier", T, "Immunization.identifier"),
        ("location", R, "Immunization.location", ("Location",)),
        ("lot-number", S, "Immunization.lotNumber"),
        ("manufacturer", R, "Immunization.manufacturer", ("Organization",)),
        ("patient", R, "Immunization.patient", ("Patient",)),
        (
            "performer",
            R,
            "Immunization.performer.actor",
            ("Practitioner", "PractitionerRole", "Organization"),
        ),
        ("reaction", R, "Immunization.reaction.detail", ("Observation",)),
        ("reaction-date", D, "Immunization.reaction.date"),
        ("reason-code", T, "Immunization.reasonCode"),
        (
            "reason-reference",
            R,
            "Immunization.reasonReference",
            ("Condition", "Observation", "DiagnosticReport"),
        ),
        ("series", S, "Immunization.protocolApplied.series"),
        ("status", T, "Immunization.status"),
        ("status-reason", T, "Immunization.statusReason"),
        ("target-disease", T, "Immunization.protocolApplied.targetDisease"),
        ("vaccine-code", T, "Immunization.vaccineCode"),
    ],
    "Consent": [
        ("action", T, "Consent.provision.action"),
        ("actor", R, "Consent.provision.actor.reference", (*_ACTORS[:-1], "Group", "CareTeam")),
        ("category", T, "Consent.category"),
        ("consentor", R, "Consent.performer", _ACTORS[:-1]),
        ("data", R, "Consent.provision.data.reference"),
        ("date", D, "Consent.dateTime"),
        ("identifier", T, "Consent.identifier"),
        ("organization", R, "Consent.organization", ("Organization",)),
        ("patient", R, "Consent.patient", ("Patient",)),
        ("period", D, "Consent.provision.period"),
        ("purpose", T, "Consent.provision.purpose"),
        ("scope", T, "Consent.scope"),
        ("security-label", T, "Consent.provision.securityLabel"),
        (
            "source-reference",
            R,
            "Consent.sourceReference",
            ("Consent", "DocumentReference", "Contract", "QuestionnaireResponse"),
        ),
        ("status", T, "Consent.status"),
    ],
    "RiskAssessment": [
        ("condition", R, "RiskAssessment.condition", ("Condition",)),
        ("date", D, "RiskAssessment.occurrenceDateTime"),
        ("encounter", R, "RiskAssessment.encounter", ("Encounter",)),
        ("identifier", T, "RiskAssessment.identifier"),
        ("method", T, "RiskAssessment.method"),
        ("patient", R, "RiskAssessment.subject", ("Patient",)),
        (
            "performer",
            R,
            "RiskAssessment.performer",
            ("Practitioner", "PractitionerRole", "Device"),
        ),
        ("probability", N, "RiskAssessment.prediction.probabilityDecimal"),
        ("risk", T, "RiskAssessment.prediction.qualitativeRisk"),
        ("subject", R, "RiskAssessment.subject", ("Patient", "Group")),
    ],
    "Device": [
        (
            "device-name",
            S,
            "Device.deviceName.name | Device.type.coding.display | Device.type.text",
        ),
        ("identifier", T, "Device.identifier"),
        ("location", R, "Device.location", ("Location",)),
        ("manufacturer", S, "Device.manufacturer"),
        ("model", S, "Device.modelNumber"),
        ("organization", R, "Device.owner", ("Organization",)),
        ("patient", R, "Device.patient", ("Patient",)),
        ("status", T, "Device.status"),
        ("type", T, "Device.type"),
        ("udi-carrier", S, "Device.udiCarrier.carrierHRF"),
        ("udi-di", S, "Device.udiCarrier.deviceIdentifier"),
        ("url", U, "Device.url"),
    ],
    "DeviceRequest": [
        ("authored-on", D, "DeviceRequest.authoredOn"),
        ("based-on", R, "DeviceRequest.basedOn"),
        ("code", T, "DeviceRequest.codeCodeableConcept"),
        ("device", R, "DeviceRequest.codeReference", ("Device",)),
        ("encounter", R, "DeviceRequest.encounter", ("Encounter",)),
        ("event-date", D, "DeviceRequest.occurrenceDateTime | DeviceRequest.occurrencePeriod"),
        ("group-identifier", T, "DeviceRequest.groupIdentifier"),
        ("identifier", T, "DeviceRequest.identifier"),
        ("instantiates-uri", U, "DeviceRequest.instantiatesUri"),
        ("intent", T, "DeviceRequest.intent"),
        ("patient", R, "DeviceRequest.subject", ("Patient",)),
        ("performer", R, "DeviceRequest.performer", (*_ACTORS, "CareTeam", "HealthcareService")),
        ("prior-request", R, "DeviceRequest.priorRequest"),
        (
            "requester",
            R,
            "DeviceRequest.requester",
            ("Device", "Practitioner", "PractitionerRole", "Organization"),
        ),
        ("status", T, "DeviceRequest.status"),
        ("subject", R, "DeviceRequest.subject", ("Patient", "Group", "Location", "Device")),
    ],
    "Appointment": [
        ("actor", R, "Appointment.participant.actor", (*_ACTORS, "HealthcareService", "Location")),
        ("appointment-type", T, "Appointment.appointmentType"),
        ("based-on", R, "Appointment.basedOn", ("ServiceRequest",)),
        ("date", D, "Appointment.start"),
        ("identifier", T, "Appointment.identifier"),
        ("location", R, "Appointment.participant.actor", ("Location",)),
        ("part-status", T, "Appointment.participant.status"),
        ("patient", R, "Appointment.participant.actor", ("Patient",)),
        ("practitioner", R, "Appointment.participant.actor", ("Practitioner",)),
        ("reason-code", T, "Appointment.reasonCode"),
        (
            "reason-reference",
            R,
            "Appointment.reasonReference",
            ("Condition", "Procedure", "Observation", "ImmunizationRecommendation"),
        ),
        ("service-category", T, "Appointment.serviceCategory"),
        ("service-type", T, "Appointment.serviceType"),
        ("slot", R, "Appointment.slot", ("Slot",)),
        ("specialty", T, "Appointment.specialty"),
        ("status", T, "Appointment.status"),
        ("supporting-info", R, "Appointment.supportingInformation"),
    ],
}


def _build() -> dict[str, dict[str, SearchParameter]]:
    registry: dict[str, dict[str, SearchParameter]] = {}
    for resource_type, rows in _TABLE.items():
        params: dict[str, SearchParameter] = {}
        for name, ptype, expression, targets, column in COMMON:
            params[name] = SearchParameter(resource_type, name, ptype, expression, targets, column)
        for row in rows:
            name, ptype, expression = row[0], row[1], row[2]
            targets = tuple(row[3]) if len(row) > 3 else ()
            params[name] = SearchParameter(resource_type, name, ptype, expression, targets)
        registry[resource_type] = params
    return registry


REGISTRY: dict[str, dict[str, SearchParameter]] = _build()


def searchable_types() -> tuple[str, ...]:
    """The resource types with declared search parameters, sorted."""
    return tuple(sorted(REGISTRY))


@cache
def parameters_for(resource_type: str) -> dict[str, SearchParameter]:
    """Every search parameter of `resource_type` by name. A type without declarations (any other
    R4 resource is storable) still has the common parameters."""
    known = REGISTRY.get(resource_type)
    if known is not None:
        return known
    return {
        name: SearchParameter(resource_type, name, ptype, expression, targets, column)
        for name, ptype, expression, targets, column in COMMON
    }


@cache
def indexed_parameters_for(resource_type: str) -> tuple[SearchParameter, ...]:
    """The parameters whose values are extracted into index rows (not answered by a column)."""
    return tuple(p for p in parameters_for(resource_type).values() if p.column is None)
