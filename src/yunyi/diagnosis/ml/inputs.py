"""What a model takes: each input declared once with its FHIR Observation code (LOINC), its UCUM
unit, the units we convert from, and the range outside which a value is not a measurement of a
living person (refused) as opposed to merely outside the training data (answered, flagged)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class InputSpec:
    name: str
    label_en: str
    label_zh: str
    unit: str  # UCUM code the model was trained in
    plausible: tuple[float, float]  # inclusive; outside it the value is refused as absurd
    loinc: str | None = None  # None: no verified LOINC code, the value must be posted explicitly
    # Other LOINC codes carrying the same quantity (e.g. the molar-concentration variant).
    loinc_alternates: tuple[str, ...] = ()
    # Where a value comes from when it is not an Observation (e.g. "Patient.birthDate").
    fhir_source: str | None = None
    note: str = ""
    accepted_units: tuple[str, ...] = field(default=())

    def as_card(self) -> dict[str, object]:
        return {
            "name": self.name,
            "label": {"en": self.label_en, "zh-Hans": self.label_zh},
            "unit": self.unit,
            "accepted_units": [self.unit, *self.accepted_units],
            "loinc": self.loinc,
            "loinc_alternates": list(self.loinc_alternates),
            "fhir_source": self.fhir_source,
            "plausible_range": list(self.plausible),
            "note": self.note,
        }
