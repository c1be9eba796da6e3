"""A suggestion as a FHIR R4 RiskAssessment (https://hl7.org/fhir/R4/riskassessment.html): status
`preliminary` (a suggestion, never a final assessment), the model as `method` and as the
`performer`'s display, the Observations (and the Patient, for age) it used as `basis`, the
probability with its qualitative risk, and a note that it is not a diagnosis. Pure."""

from __future__ import annotations

from typing import Any, Final

from yunyi.diagnosis.ml.inference import Suggestion

MODEL_SYSTEM: Final = "urn:yunyi:diagnosis-model"
RISK_PROBABILITY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/risk-probability"
# Our risk bands on the HL7 risk-probability codes.
QUALITATIVE_RISK: Final = {"low": "low", "intermediate": "moderate", "high": "high"}
NOTE: Final = (
    "Suggestion from a machine-learning model for the doctor, not a diagnosis. "
    "机器学习模型给医生的建议，不是诊断。"
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
