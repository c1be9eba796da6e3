"""A suggestion as a FHIR R4 RiskAssessment (https://hl7.org/fhir/R4/riskassessment.html): status
`preliminary` (a suggestion, never a final assessment), the model as `method` and as the
`performer`'s display, the Observations (and the Patient, for age) it used as `basis`, the
probability with its qualitative risk, a note that it is not a diagnosis, and the security label
`SECURITY_LABEL` in `meta.security`, by which the record keeps it from patients unless
`DIAGNOSIS_PATIENT_VISIBLE` is on. Pure."""

from __future__ import annotations

from typing import Any, Final

from yunyi.diagnosis.ml.inference import Suggestion

MODEL_SYSTEM: Final = "urn:yunyi:diagnosis-model"
# The label says what the resource is, an automated suggestion addressed to clinicians, and leaves
# whether patients see it to the operator's setting (settings.py lists it in
# EMR_PATIENT_HIDDEN_SECURITY_LABELS unless DIAGNOSIS_PATIENT_VISIBLE). A code of our own rather
# than HL7's: the v3 confidentiality codes (R, V) grade sensitivity, which a model's output has no
# more than the observations it read, and the refrain policy NOPAT means "not without the
# attending provider's authorization", a per-resource decision Yunyi does not record; either
# would tell other systems something untrue.
SECURITY_LABEL_SYSTEM: Final = "urn:yunyi:security-label"
SECURITY_LABEL_CODE: Final = "clinician-decision-support"
SECURITY_LABEL: Final = f"{SECURITY_LABEL_SYSTEM}|{SECURITY_LABEL_CODE}"
RISK_PROBABILITY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/risk-probability"
# Our risk bands on the HL7 risk-probability codes.
QUALITATIVE_RISK: Final = {"low": "low", "intermediate": "moderate", "high": "high"}
NOTE: Final = (
    "Suggestion from a machine-learning model for the doctor, not a diagnosis. "
    "机器学习模型给医生的建议，不是诊断。"
)


def security_label_coding() -> dict[str, str]:
    """The `meta.security` coding of `SECURITY_LABEL` (a fresh dict: callers may change it)."""
    return {
        "system": SECURITY_LABEL_SYSTEM,
        "code": SECURITY_LABEL_CODE,
        "display": "Decision support for clinicians",
    }


def is_suggestion(resource: Any) -> bool:
    """Whether `resource` is a RiskAssessment this app wrote: its `method` is coded in
    `MODEL_SYSTEM`, a Yunyi code system only the diagnosis app's models write (other sources
    code their methods in their own systems, or not at all)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "RiskAssessment":
        return False
    method = resource.get("method")
    codings = method.get("coding") if isinstance(method, dict) else None
    return isinstance(codings, list) and any(
        isinstance(coding, dict) and coding.get("system") == MODEL_SYSTEM for coding in codings
    )


def is_labelled(resource: Any) -> bool:
    """Whether `resource` carries `SECURITY_LABEL` in `meta.security`."""
    meta = resource.get("meta") if isinstance(resource, dict) else None
    security = meta.get("security") if isinstance(meta, dict) else None
    return isinstance(security, list) and any(
        isinstance(coding, dict)
        and coding.get("system") == SECURITY_LABEL_SYSTEM
        and coding.get("code") == SECURITY_LABEL_CODE
        for coding in security
    )


def risk_assessment_resource(
    *,
    suggestion: Suggestion,
    title: str,
    outcome: str,
    patient_id: str,
    occurred: str,
) -> dict[str, Any]:
    references = sorted(
        {entry["source"] for entry in suggestion.inputs_used if entry["source"] != "explicit"}
    )
    model = f"{suggestion.task} {suggestion.version}"
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "meta": {"security": [security_label_coding()]},
        "status": "preliminary",
        "subject": {"reference": f"Patient/{patient_id}"},
        "occurrenceDateTime": occurred,
        "method": {
            "coding": [
                {
                    "system": MODEL_SYSTEM,
                    "code": suggestion.task,
                    "version": suggestion.version,
                    "display": title,
                }
            ],
            "text": f"Yunyi model {model}",
        },
        "performer": {"display": f"Yunyi model {model}"},
        "prediction": [
            {
                "outcome": {"text": outcome},
                "probabilityDecimal": suggestion.probability,
                "qualitativeRisk": {
                    "coding": [
                        {
                            "system": RISK_PROBABILITY_SYSTEM,
                            "code": QUALITATIVE_RISK[suggestion.risk_band],
                        }
                    ]
                },
            }
        ],
        "note": [
            {"text": NOTE},
        ],
    }
    if references:
        resource["basis"] = [{"reference": reference} for reference in references]
    if suggestion.out_of_distribution:
        names = ", ".join(entry["input"] for entry in suggestion.out_of_range)
        resource["note"].append(
            {"text": f"Out of distribution: {names} outside the training data range."}
        )
    return resource
