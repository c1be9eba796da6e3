from __future__ import annotations

import pytest

from yunyi.core.errors import ApplicationError
from yunyi.diagnosis.ml.units import unit_canonical, unit_convert


@pytest.mark.spec("UCUM", "unit codes")
@pytest.mark.parametrize(
    ("value", "unit", "to_unit", "expected"),
    [
        (5.5, "mmol/L", "mg/dL", 99.088),
        (99.088, "mg/dL", "mmol/L", 5.5),
        (17.1, "umol/L", "mg/dL", 1.0),
        (17.1, "µmol/L", "mg/dL", 1.0),
        (35, "g/L", "g/dL", 3.5),
        (154, "[lb_av]", "kg", 69.85322498),
        (154, "lb", "kg", 69.85322498),
        (70, "[in_i]", "cm", 177.8),
        (1.75, "m", "cm", 175.0),
        (2.5, "cm", "mm", 25.0),
        (10.66576, "kPa", "mm[Hg]", 80.0),
        (250, "10*9/L", "10*3/uL", 250.0),
        (18, "mo", "a", 1.5),
        (120, "mg/dl", "mg/dL", 120.0),
        (5.5, "MMOL/L", "mg/dL", 99.088),
    ],
)
def test_unit_convert_gives_the_table_value(
    value: float, unit: str, to_unit: str, expected: float
) -> None:
    assert unit_convert(value=value, unit=unit, to_unit=to_unit, input_name="x") == pytest.approx(
        expected, rel=1e-9
    )


def test_unit_canonical_resolves_aliases_and_case() -> None:
    assert unit_canonical("mmHg") == "mm[Hg]"
    assert unit_canonical("mg/dl") == "mg/dL"
    assert unit_canonical("lbs") == "[lb_av]"
    assert unit_canonical("furlong") == "furlong"


def test_unit_convert_refuses_a_unit_without_a_conversion() -> None:
    with pytest.raises(ApplicationError) as caught:
        unit_convert(value=5.5, unit="furlong", to_unit="mg/dL", input_name="glucose_2h_ogtt")
    assert caught.value.code == "unknown_unit"
    assert caught.value.status == 400
    assert caught.value.details == {
        "input": "glucose_2h_ogtt",
        "unit": "furlong",
        "expected": "mg/dL",
    }


def test_unit_convert_refuses_a_conversion_between_unrelated_units() -> None:
    with pytest.raises(ApplicationError) as caught:
        unit_convert(value=1, unit="kg", to_unit="mg/dL", input_name="glucose_2h_ogtt")
    assert caught.value.code == "unknown_unit"
