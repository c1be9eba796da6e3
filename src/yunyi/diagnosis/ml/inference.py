"""One suggestion from one patient's inputs: validated, converted to the model's units, scored,
banded and explained. Pure: the caller supplies the loaded model and the input values (explicit,
or read from the record's Observations by LOINC code).

Refusals, never silent guesses: an unknown or missing input, a non-numeric, negative or absurd
value, or an unknown unit raises the matching `DiagnosisErrorCode`. A value outside the training
range is answered but flagged out of distribution.

Explanation (occlusion against the training median): for each input, the probability with that
input alone set to its training median; the input's contribution is the patient's probability
minus that one. Positive contributions pushed the risk up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from yunyi.diagnosis.errors import DiagnosisErrorCode, diagnosis_error
from yunyi.diagnosis.ml.inputs import InputSpec
from yunyi.diagnosis.ml.tasks import Task
from yunyi.diagnosis.ml.units import unit_convert

TOP_CONTRIBUTIONS: Final = 3


@dataclass(frozen=True)
class InputValue:
    value: Any
    unit: str | None = None  # None: the input's declared unit
    effective: str | None = None  # when it was measured (ISO 8601), from the Observation
    source: str = "explicit"  # "explicit" or a reference such as "Observation/123"


@dataclass(frozen=True)
class LoadedModel:
    task: Task
    version: str
    estimator: Any
    card: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.card["threshold"]["value"])


@dataclass(frozen=True)
class Suggestion:
    task: str
    version: str
    probability: float
    risk_band: str  # "low" | "intermediate" | "high"
    threshold: float
    inputs_used: list[dict[str, Any]]
    contributions: list[dict[str, Any]]
    out_of_distribution: bool
    out_of_range: list[dict[str, Any]] = field(default_factory=list)
    performance: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "version": self.version,
            "probability": self.probability,
            "risk_band": self.risk_band,
            "threshold": self.threshold,
            "inputs_used": self.inputs_used,
            "contributions": self.contributions,
            "out_of_distribution": self.out_of_distribution,
            "out_of_range": self.out_of_range,
            "performance": self.performance,
        }


def risk_band(*, probability: float, threshold: float) -> str:
    if probability >= threshold:
        return "high"
    if probability >= threshold / 2:
        return "intermediate"
    return "low"


def input_value_validate(*, spec: InputSpec, given: InputValue) -> float:
    """`given` in the unit the model was trained in, or the error that refuses it."""
    raw = given.value
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise diagnosis_error(
            DiagnosisErrorCode.NON_NUMERIC_INPUT, details={"input": spec.name, "value": repr(raw)}
        )
    value = float(raw)
    if value < 0:
        raise diagnosis_error(
            DiagnosisErrorCode.NEGATIVE_INPUT, details={"input": spec.name, "value": value}
        )
    if given.unit is not None:
        value = unit_convert(value=value, unit=given.unit, to_unit=spec.unit, input_name=spec.name)
    low, high = spec.plausible
    if not low <= value <= high:
        raise diagnosis_error(
            DiagnosisErrorCode.IMPLAUSIBLE_INPUT,
            details={"input": spec.name, "value": round(value, 4), "unit": spec.unit,
                     "plausible_range": [low, high]},
        )  # fmt: skip
    return value


def suggestion_compute(*, model: LoadedModel, inputs: Mapping[str, InputValue]) -> Suggestion:
    task = model.task
    unknown = sorted(set(inputs) - set(task.input_names))
    if unknown:
        raise diagnosis_error(DiagnosisErrorCode.UNKNOWN_INPUT, details={"inputs": unknown})
    missing = [name for name in task.input_names if name not in inputs]
    if missing:
        raise diagnosis_error(DiagnosisErrorCode.MISSING_INPUTS, details={"missing": missing})

    stats = model.card["training_stats"]
    values = [input_value_validate(spec=spec, given=inputs[spec.name]) for spec in task.inputs]
    patient = np.asarray(values, dtype=np.float64)
    # Row 0 is the patient; row i+1 has input i replaced by its training median.
    batch = np.tile(patient, (len(values) + 1, 1))
    for i, spec in enumerate(task.inputs):
        batch[i + 1, i] = stats[spec.name]["median"]
    # The inputs were checked above (finite, plausible): scikit-learn's per-call validation is
    # most of the time of one small prediction, so it is skipped here.
    from sklearn import config_context  # imported on first use: web processes start lighter

    with config_context(assume_finite=True, skip_parameter_validation=True):
        probabilities = model.estimator.predict_proba(batch)[:, 1]
    probability = float(probabilities[0])

    contributions = sorted(
        (
            {
                "input": spec.name,
                "value": round(values[i], 4),
                "reference": stats[spec.name]["median"],
                "change": round(probability - float(probabilities[i + 1]), 4),
            }
            for i, spec in enumerate(task.inputs)
        ),
        key=lambda entry: (-abs(entry["change"]), entry["input"]),
    )[:TOP_CONTRIBUTIONS]
    out_of_range = [
        {"input": spec.name, "value": round(values[i], 4), **{
            k: stats[spec.name][k] for k in ("min", "max")}}
        for i, spec in enumerate(task.inputs)
        if not stats[spec.name]["min"] <= values[i] <= stats[spec.name]["max"]
    ]  # fmt: skip
    inputs_used = [
        {
            "input": spec.name,
            "loinc": spec.loinc,
            "value": round(values[i], 4),
            "unit": spec.unit,
            "given_value": inputs[spec.name].value,
            "given_unit": inputs[spec.name].unit or spec.unit,
            "effective": inputs[spec.name].effective,
            "source": inputs[spec.name].source,
        }
        for i, spec in enumerate(task.inputs)
    ]
    metrics = model.card["metrics"]["model"]
    return Suggestion(
        task=task.name,
        version=model.version,
        probability=round(probability, 4),
        risk_band=risk_band(probability=probability, threshold=model.threshold),
        threshold=model.threshold,
        inputs_used=inputs_used,
        contributions=contributions,
        out_of_distribution=bool(out_of_range),
        out_of_range=out_of_range,
        performance={name: metrics[name] for name in ("auroc", "sensitivity", "specificity")},
    )
