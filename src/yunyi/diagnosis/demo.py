"""Demo data for the diagnosis app (`yunyi demo`, run by every `make run`): models in the
registry, and the Observations the diabetes model needs in the demo patients' records.

Models: a task with no active version gets one. Files already in the registry directory (from an
earlier run or `yunyi train-models`) are registered as they are; a task with none is trained in
the fast configuration (one-point grid, 100 bootstrap resamples: about 3 s for all three tasks
here, against about 10 s for the full configuration), so the first `make run` stays quick.
`yunyi train-models` later replaces them with the full models.

Records: the emr demo already writes vital signs (BMI, the blood-pressure panel) and the birth
date gives the age; this adds a 75 g OGTT 2-hour glucose, the number of pregnancies, triceps
skinfold and diabetes pedigree (the last two under our own input code system, since they have
no LOINC code), through `yunyi.emr.services` with conditional creates, so reruns add nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.utils import timezone

from yunyi.diagnosis.ml.registry import CARD_FILE, MODEL_FILE, WrittenArtifact
from yunyi.diagnosis.ml.tasks import TASKS
from yunyi.diagnosis.ml.training import FAST
from yunyi.diagnosis.models import ModelVersion
from yunyi.diagnosis.record import INPUT_CODE_SYSTEM, LOINC
from yunyi.diagnosis.services import model_version_register, models_train
from yunyi.emr.policy import Actor, patient_id_for_user
from yunyi.emr.services import record_create

DEMO_CLIENT_ID: Final = "yunyi-demo"
DEMO_IDENTIFIER_SYSTEM: Final = "urn:yunyi:demo:diagnosis"
UCUM: Final = "http://unitsofmeasure.org"
# (input, system, code, display, value, unit) per demo patient. patient2's profile in the emr
# demo is diabetic; patient1 is a man, which the suggestion flags as outside the Pima population.
DEMO_INPUTS: Final[dict[str, list[tuple[str, str, str, str, float, str]]]] = {
    "patient1": [
        ("glucose_2h_ogtt", LOINC, "1518-0", "Glucose [Mass/volume] in Serum or Plasma --2 "
         "hours post 75 g glucose PO", 7.4, "mmol/L"),
        ("pregnancies", LOINC, "11996-6", "[#] Pregnancies", 0, "{#}"),
        ("triceps_skinfold", INPUT_CODE_SYSTEM, "triceps_skinfold", "Triceps skinfold thickness",
         21, "mm"),
        ("diabetes_pedigree", INPUT_CODE_SYSTEM, "diabetes_pedigree",
         "Diabetes pedigree function", 0.31, "1"),
    ],
    "patient2": [
        ("glucose_2h_ogtt", LOINC, "1518-0", "Glucose [Mass/volume] in Serum or Plasma --2 "
         "hours post 75 g glucose PO", 10.8, "mmol/L"),
        ("pregnancies", LOINC, "11996-6", "[#] Pregnancies", 2, "{#}"),
        ("triceps_skinfold", INPUT_CODE_SYSTEM, "triceps_skinfold", "Triceps skinfold thickness",
         33, "mm"),
        ("diabetes_pedigree", INPUT_CODE_SYSTEM, "diabetes_pedigree",
         "Diabetes pedigree function", 0.62, "1"),
    ],
}  # fmt: skip
MEASURED_DAYS_AGO: Final = 20


def _registered_from_disk(root: Path, task: str) -> ModelVersion | None:
    """Register the newest complete version of `task` already on disk, if any."""
    cards = sorted((root / task).glob(f"*/{CARD_FILE}"), key=lambda p: p.stat().st_mtime)
    for card_path in reversed(cards):
        if not (card_path.parent / MODEL_FILE).exists():
            continue
        card = json.loads(card_path.read_text(encoding="utf-8"))
        version = card_path.parent.name
        artifact = WrittenArtifact(
            task=task,
            version=version,
            model_path=f"{task}/{version}/{MODEL_FILE}",
            sha256=card["files"]["model"]["sha256"],
            card=card,
        )
        return model_version_register(artifact=artifact)
    return None


def demo_models_ensure(stdout: Any) -> list[str]:
    """Give every task an active model version; returns the tasks trained now."""
    root = Path(settings.DIAGNOSIS_MODEL_DIR)
    active = set(ModelVersion.objects.filter(is_active=True).values_list("task", flat=True))
    missing = [
        name for name in TASKS if name not in active and _registered_from_disk(root, name) is None
    ]
    if missing:
        began = time.perf_counter()
        models_train(tasks=missing, config=FAST)
        stdout.write(
            f"Diagnosis: trained demo models ({', '.join(missing)}) in "
            f"{time.perf_counter() - began:.1f} s; `yunyi train-models` trains the full ones."
        )
    return missing


def _observation(
    patient_ref: str, key: str, entry: tuple[str, str, str, str, float, str], when: str
) -> dict[str, Any]:
    _name, system, code, display, value, unit = entry
    quantity: dict[str, Any] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    return {
        "resourceType": "Observation",
        "identifier": [{"system": DEMO_IDENTIFIER_SYSTEM, "value": key}],
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory" if system == LOINC else "exam",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
        "subject": {"reference": patient_ref},
        "effectiveDateTime": when,
        "valueQuantity": quantity,
    }


def demo_observations_load(users: Mapping[str, Any]) -> int:
    """The demo patients' diabetes-model inputs; returns how many were newly written."""
    actor = Actor.system(client_id=DEMO_CLIENT_ID)
    when = (timezone.localdate() - timedelta(days=MEASURED_DAYS_AGO)).isoformat()
    created = 0
    for username, entries in DEMO_INPUTS.items():
        user = users.get(username)
        if user is None:
            continue
        patient_id = patient_id_for_user(user)
        for entry in entries:
            key = f"{username}-{entry[0]}"
            outcome = record_create(
                actor=actor,
                resource=_observation(f"Patient/{patient_id}", key, entry, when),
                if_none_exist=f"identifier={DEMO_IDENTIFIER_SYSTEM}|{key}",
            )
            created += int(outcome.created)
    return created


def demo_load(users: Mapping[str, Any], stdout: Any) -> None:
    """`yunyi demo` hook (after the emr's, which creates the Patient resources)."""
    demo_models_ensure(stdout)
    demo_observations_load(users)
