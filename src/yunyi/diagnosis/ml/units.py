"""Unit conversion for model inputs: a small explicit table, UCUM unit codes throughout.

Every conversion is linear (`value * factor + offset`) and listed here with the reason for its
factor, so a reviewer can check each one; anything absent is refused (`unknown_unit`), never
guessed. Glucose uses its molar mass 180.16 g/mol and total bilirubin 584.66 g/mol.
"""

from __future__ import annotations

from typing import Final

from yunyi.diagnosis.errors import DiagnosisErrorCode, diagnosis_error

# (from unit, to unit) -> (factor, offset): value_in_to = value_in_from * factor + offset.
CONVERSIONS: Final[dict[tuple[str, str], tuple[float, float]]] = {
    # Glucose: mmol/L * 180.16 g/mol / 10 (dL per L) = mg/dL.
    ("mmol/L", "mg/dL"): (18.016, 0.0),
    # Total bilirubin: µmol/L -> mg/dL divides by 10 * 584.66 / 1000 = 17.1.
    ("umol/L", "mg/dL"): (1 / 17.1, 0.0),
    # Albumin: g/L -> g/dL.
    ("g/L", "g/dL"): (0.1, 0.0),
    # Mass: international avoirdupois pound.
    ("[lb_av]", "kg"): (0.45359237, 0.0),
    ("g", "kg"): (0.001, 0.0),
    # Length: international inch.
    ("[in_i]", "cm"): (2.54, 0.0),
    ("m", "cm"): (100.0, 0.0),
    ("cm", "mm"): (10.0, 0.0),
    # Pressure: kilopascal to millimetres of mercury (1 mm[Hg] = 0.133322 kPa).
    ("kPa", "mm[Hg]"): (1 / 0.133322, 0.0),
    # Platelets: 10^9/L and 10^3/µL are the same count.
    ("10*9/L", "10*3/uL"): (1.0, 0.0),
    # Age: months to years.
    ("mo", "a"): (1 / 12, 0.0),
    # Enzyme activity: µkat/L -> U/L (1 U = 16.67 nkat).
    ("ukat/L", "U/L"): (60.0, 0.0),
}

# Spellings people type that mean a UCUM code above; the key is matched case-sensitively first,
# then case-insensitively, since "mg/dl" and "MMOL/L" are common in lab exports.
ALIASES: Final[dict[str, str]] = {
    "µmol/L": "umol/L",
    "μmol/L": "umol/L",
    "lb": "[lb_av]",
    "lbs": "[lb_av]",
    "in": "[in_i]",
    "inch": "[in_i]",
    "mmHg": "mm[Hg]",
    "10^9/L": "10*9/L",
    "10^3/uL": "10*3/uL",
    "10*3/µL": "10*3/uL",
    "years": "a",
    "year": "a",
    "y": "a",
    "months": "mo",
    "s": "s",
    "sec": "s",
    "IU/L": "U/L",
    # LOINC's example unit for counts such as the number of pregnancies.
    "{#}": "1",
}


def unit_canonical(unit: str) -> str:
    """The UCUM spelling of `unit` (aliases resolved; case-insensitive where unambiguous)."""
    if unit in ALIASES:
        return ALIASES[unit]
    known = {u for pair in CONVERSIONS for u in pair} | set(ALIASES.values())
    if unit in known:
        return unit
    lowered = {u.lower(): u for u in known} | {a.lower(): c for a, c in ALIASES.items()}
    return lowered.get(unit.strip().lower(), unit)


def unit_convert(*, value: float, unit: str, to_unit: str, input_name: str) -> float:
    """`value` in `unit` expressed in `to_unit`; `unknown_unit` when the table has no path."""
    source = unit_canonical(unit)
    target = unit_canonical(to_unit)
    if source == target:
        return value
    if (source, target) in CONVERSIONS:
        factor, offset = CONVERSIONS[(source, target)]
        return value * factor + offset
    if (target, source) in CONVERSIONS:
        factor, offset = CONVERSIONS[(target, source)]
        return (value - offset) / factor
    raise diagnosis_error(
        DiagnosisErrorCode.UNKNOWN_UNIT,
        details={"input": input_name, "unit": unit, "expected": to_unit},
    )
