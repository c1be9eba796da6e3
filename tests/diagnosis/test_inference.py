"""One suggestion from explicit inputs: units converted, missing/unknown/bad values refused,
out-of-distribution flagged, the largest per-patient contributions named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.diagnosis.conftest import Trained
from yunyi.core.errors import ApplicationError
from yunyi.diagnosis.ml.inference import InputValue, risk_band, suggestion_compute
from yunyi.diagnosis.selectors import suggestion_from_inputs

PIMA_PATIENT: dict[str, Any] = {
    "pregnancies": (2, None),
    "glucose_2h_ogtt": (150, "mg/dL"),
    "diastolic_bp": (72, "mm[Hg]"),
    "triceps_skinfold": (30, "mm"),
    "bmi": (34.0, "kg/m2"),
    "diabetes_pedigree": (0.5, None),
    "age": (45, "a"),
}


def pima_inputs(**changes: tuple[Any, str | None]) -> dict[str, InputValue]:
    values = {**PIMA_PATIENT, **changes}
    return {name: InputValue(value=v, unit=u) for name, (v, u) in values.items()}


def test_suggestion_answers_probability_band_inputs_and_contributions(trained: Trained) -> None:
    model = trained.loaded("pima_diabetes")
    suggestion = suggestion_compute(model=model, inputs=pima_inputs())
    assert 0.0 < suggestion.probability < 1.0
    assert suggestion.risk_band == risk_band(
        probability=suggestion.probability, threshold=model.threshold
    )
    assert suggestion.version == trained.artifacts["pima_diabetes"].version
    assert [i["input"] for i in suggestion.inputs_used] == list(model.task.input_names)
    assert suggestion.inputs_used[1] == {
        "input": "glucose_2h_ogtt", "loinc": "1518-0", "value": 150.0, "unit": "mg/dL",
        "given_value": 150, "given_unit": "mg/dL", "effective": None, "source": "explicit",
    }  # fmt: skip
    assert len(suggestion.contributions) == 3
    changes = [abs(c["change"]) for c in suggestion.contributions]
    assert changes == sorted(changes, reverse=True)
    assert suggestion.out_of_distribution is False
    assert suggestion.out_of_range == []
    assert set(suggestion.performance) == {"auroc", "sensitivity", "specificity"}


def test_glucose_in_mmol_per_litre_gives_the_same_answer_as_in_mg_per_decilitre(
    trained: Trained,
) -> None:
    model = trained.loaded("pima_diabetes")
    in_mg = suggestion_compute(model=model, inputs=pima_inputs(glucose_2h_ogtt=(180.16, "mg/dL")))
    in_mmol = suggestion_compute(model=model, inputs=pima_inputs(glucose_2h_ogtt=(10.0, "mmol/L")))
    assert in_mmol.probability == in_mg.probability
    assert in_mmol.inputs_used[1]["value"] == 180.16
    assert in_mmol.inputs_used[1]["given_unit"] == "mmol/L"


def test_bilirubin_and_albumin_in_si_units_are_converted(trained: Trained) -> None:
    model = trained.loaded("pbc_mortality")
    conventional = {
        "age": InputValue(55), "bilirubin": InputValue(2.0, "mg/dL"),
        "albumin": InputValue(3.4, "g/dL"), "prothrombin_time": InputValue(11.0, "s"),
    }  # fmt: skip
    si = {
        **conventional,
        "bilirubin": InputValue(34.2, "umol/L"),
        "albumin": InputValue(34, "g/L"),
    }
    assert (
        suggestion_compute(model=model, inputs=si).probability
        == suggestion_compute(model=model, inputs=conventional).probability
    )


def test_higher_glucose_raises_the_probability(trained: Trained) -> None:
    model = trained.loaded("pima_diabetes")
    low = suggestion_compute(model=model, inputs=pima_inputs(glucose_2h_ogtt=(90, None)))
    high = suggestion_compute(model=model, inputs=pima_inputs(glucose_2h_ogtt=(195, None)))
    assert high.probability > low.probability


def test_missing_inputs_are_listed_and_nothing_is_guessed(trained: Trained) -> None:
    inputs = pima_inputs()
    del inputs["triceps_skinfold"], inputs["diabetes_pedigree"]
    with pytest.raises(ApplicationError) as caught:
        suggestion_compute(model=trained.loaded("pima_diabetes"), inputs=inputs)
    assert caught.value.code == "missing_inputs"
    assert caught.value.status == 400
    assert caught.value.details == {"missing": ["triceps_skinfold", "diabetes_pedigree"]}


def test_an_input_the_model_does_not_declare_is_refused(trained: Trained) -> None:
    inputs = {**pima_inputs(), "insulin": InputValue(80)}
    with pytest.raises(ApplicationError) as caught:
        suggestion_compute(model=trained.loaded("pima_diabetes"), inputs=inputs)
    assert caught.value.code == "unknown_input"
    assert caught.value.details == {"inputs": ["insulin"]}


@pytest.mark.parametrize("value", ["150", None, float("nan"), float("inf"), True, [150]])
def test_non_numeric_values_are_refused(trained: Trained, value: Any) -> None:
    with pytest.raises(ApplicationError) as caught:
        suggestion_compute(
            model=trained.loaded("pima_diabetes"), inputs=pima_inputs(glucose_2h_ogtt=(value, None))
        )
    assert caught.value.code == "non_numeric_input"
    assert caught.value.details["input"] == "glucose_2h_ogtt"


def test_negative_values_are_refused(trained: Trained) -> None:
    with pytest.raises(ApplicationError) as caught:
        suggestion_compute(
            model=trained.loaded("pima_diabetes"), inputs=pima_inputs(bmi=(-3, None))
        )
    assert caught.value.code == "negative_input"
    assert caught.value.details == {"input": "bmi", "value": -3.0}


def test_absurd_values_are_refused_after_conversion(trained: Trained) -> None:
    # 150 mmol/L of glucose is 2702 mg/dL: someone typed mg/dL and chose mmol/L.
    with pytest.raises(ApplicationError) as caught:
        suggestion_compute(
            model=trained.loaded("pima_diabetes"),
            inputs=pima_inputs(glucose_2h_ogtt=(150, "mmol/L")),
        )
    assert caught.value.code == "implausible_input"
    assert caught.value.details == {
        "input": "glucose_2h_ogtt", "value": 2702.4, "unit": "mg/dL", "plausible_range": [10, 1000],
    }  # fmt: skip


def test_unknown_units_are_refused(trained: Trained) -> None:
    with pytest.raises(ApplicationError) as caught:
        suggestion_compute(
            model=trained.loaded("pima_diabetes"), inputs=pima_inputs(diastolic_bp=(72, "psi"))
        )
    assert caught.value.code == "unknown_unit"


def test_values_outside_the_training_range_are_answered_and_flagged(trained: Trained) -> None:
    model = trained.loaded("pima_diabetes")
    suggestion = suggestion_compute(model=model, inputs=pima_inputs(age=(85, "a")))
    stats = model.card["training_stats"]["age"]
    assert suggestion.out_of_distribution is True
    assert suggestion.out_of_range == [
        {"input": "age", "value": 85.0, "min": stats["min"], "max": stats["max"]}
    ]
    assert 0.0 < suggestion.probability < 1.0


def test_risk_band_rule() -> None:
    assert risk_band(probability=0.30, threshold=0.30) == "high"
    assert risk_band(probability=0.15, threshold=0.30) == "intermediate"
    assert risk_band(probability=0.149, threshold=0.30) == "low"


def test_suggestion_from_the_active_registry_version(registry: Path, trained: Trained) -> None:
    suggestion = suggestion_from_inputs(task="pima_diabetes", inputs=pima_inputs())
    direct = suggestion_compute(model=trained.loaded("pima_diabetes"), inputs=pima_inputs())
    assert suggestion.as_dict() == direct.as_dict()
