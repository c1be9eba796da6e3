"""Model files on disk: one directory per task and version holding the model (skops format,
never pickle), its card (JSON) and its plots.

    <registry>/<task>/<version>/model.skops   card.json   roc.png   calibration.png

The version is the first 12 hex digits of the model file's SHA-256: the same data and seeds give
the same bytes (zip entries are written with a fixed timestamp), hence the same version, so
retraining unchanged data adds nothing. Loading checks the file's SHA-256 against the card and
lists the file's types against `TRUSTED_TYPES` before anything is constructed.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from yunyi.diagnosis.errors import DiagnosisErrorCode, diagnosis_error

if TYPE_CHECKING:
    from yunyi.diagnosis.ml.training import TrainedTask

CARD_SCHEMA: Final = "yunyi.diagnosis.model-card/1"
MODEL_FILE: Final = "model.skops"
CARD_FILE: Final = "card.json"

# Types beyond skops' defaults (scikit-learn estimators, numpy) that our model files may hold:
# the calibrated wrapper, its sigmoid calibrator, the network's optimiser state, and the fold
# splitter the calibration kept as its `cv` parameter.
TRUSTED_TYPES: Final = (
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
)

RISK_BAND_RULE: Final = (
    "high: probability >= the operating threshold; intermediate: from half the threshold up "
    "to it; low: below half the threshold"
)

_ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class WrittenArtifact:
    task: str
    version: str
    model_path: str  # relative to the registry directory
    sha256: str
    card: dict[str, Any]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def model_bytes(model: Any) -> bytes:
    """The skops file of `model`, made reproducible: skops names objects and array files by
    their memory address (`__id__`, `<id>.npy`) and stamps entries with the time of writing, so
    both are renumbered in document order and written with a fixed timestamp. Equal models then
    give equal bytes, and the SHA-256 names the model."""
    import skops.io as sio

    source = zipfile.ZipFile(io.BytesIO(sio.dumps(model)))
    schema = json.loads(source.read("schema.json"))
    renamed: dict[str, str] = {}
    numbers: dict[int, int] = {}

    def number(old: int) -> int:
        return numbers.setdefault(old, len(numbers) + 1)

    def renumber(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                renumber(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int):
                    node[key] = number(value)
                elif key == "file" and isinstance(value, str) and value.endswith(".npy"):
                    node[key] = renamed[value] = f"{number(int(value[:-4]))}.npy"
                else:
                    renumber(value)

    renumber(schema)
    entries = {"schema.json": json.dumps(schema, sort_keys=True).encode()}
    for entry in source.infolist():
        if entry.filename != "schema.json":
            entries[renamed.get(entry.filename, entry.filename)] = source.read(entry.filename)
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_STORED) as target:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            target.writestr(info, entries[name])
    return output.getvalue()


def card_build(
    *, trained: TrainedTask, version: str, sha256: str, trained_at: datetime
) -> dict[str, Any]:
    from yunyi.diagnosis.ml.evaluation import METRICS  # training-time only (scipy, sklearn)

    task = trained.task
    published = []
    for figure in task.published:
        entry = figure.as_card()
        if figure.value is None and "published_model" in trained.metrics:
            entry["measured_here"] = trained.metrics["published_model"][figure.metric]
        published.append(entry)
    return {
        "schema": CARD_SCHEMA,
        "task": task.name,
        "version": version,
        "title": {"en": task.title_en, "zh-Hans": task.title_zh},
        "positive_label": task.positive_label,
        "intended_use": task.intended_use,
        "not_for": "Diagnosis, prescription or triage on its own: a suggestion to a doctor.",
        "data": task.data,
        "split": task.split,
        "counts": trained.counts,
        "inputs": [spec.as_card() for spec in task.inputs],
        "model": {
            "kind": "MLPClassifier (scikit-learn) in a StandardScaler pipeline, early stopping, "
            "Platt-calibrated by CalibratedClassifierCV on training folds",
            "chosen_by_cv": trained.chosen["model"],
            "cv_auroc": trained.cv_auroc["model"],
        },
        "baseline": {
            "kind": "LogisticRegression (scikit-learn) in a StandardScaler pipeline",
            "chosen_by_cv": trained.chosen["baseline"],
            "cv_auroc": trained.cv_auroc["baseline"],
            "threshold": trained.baseline_threshold,
        },
        "training": trained.config.as_card(),
        "threshold": {
            "value": trained.threshold,
            "rule": "Youden's J on out-of-fold calibrated probabilities of the training data",
        },
        "risk_bands": RISK_BAND_RULE,
        "metrics": {
            "set": "held-out test data",
            "interval": f"bootstrap 95% percentile interval, "
            f"{trained.config.bootstrap_resamples} resamples, seed {trained.config.seed}",
            "names": list(METRICS),
            "model": trained.metrics["model"],
            "baseline": trained.metrics["baseline"],
        },
        "published": published,
        "limits": list(task.limits),
        "training_stats": trained.training_stats,
        "explanation": "Per input: the change in probability when that input alone is replaced "
        "by its training median (occlusion); the largest changes are reported.",
        "trained_at": trained_at.isoformat(),
        "training_seconds": round(trained.seconds, 1),
        "files": {"model": {"name": MODEL_FILE, "sha256": sha256}},
    }


def artifacts_write(*, trained: TrainedTask, root: Path, trained_at: datetime) -> WrittenArtifact:
    """Write the model, plots and card of `trained` under `root`; an existing directory for the
    same version is kept as it is (same bytes by construction)."""
    from yunyi.diagnosis.ml.plots import calibration_png, roc_png

    payload = model_bytes(trained.model)
    sha256 = hashlib.sha256(payload).hexdigest()
    version = sha256[:12]
    directory = root / trained.task.name / version
    card_path = directory / CARD_FILE
    if card_path.exists():
        card = json.loads(card_path.read_text(encoding="utf-8"))
        return WrittenArtifact(
            trained.task.name, version, f"{trained.task.name}/{version}/{MODEL_FILE}", sha256, card
        )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MODEL_FILE).write_bytes(payload)
    card = card_build(trained=trained, version=version, sha256=sha256, trained_at=trained_at)
    for name, image in (
        ("roc.png", roc_png(trained)),
        ("calibration.png", calibration_png(trained)),
    ):
        (directory / name).write_bytes(image)
        card["files"][name.removesuffix(".png")] = {
            "name": name,
            "sha256": hashlib.sha256(image).hexdigest(),
        }
    # Written last: a directory without a card is an interrupted write and is rewritten.
    card_path.write_text(json.dumps(card, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return WrittenArtifact(
        trained.task.name, version, f"{trained.task.name}/{version}/{MODEL_FILE}", sha256, card
    )


def model_file_load(*, path: Path, card: dict[str, Any]) -> Any:
    """The estimator in `path`, after checking its SHA-256 against `card` and its types against
    `TRUSTED_TYPES`; a mismatch or an unexpected type refuses the file."""
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise diagnosis_error(
            DiagnosisErrorCode.MODEL_FILE_MISSING, details={"path": path.name}
        ) from None
    expected = card.get("files", {}).get("model", {}).get("sha256")
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise diagnosis_error(
            DiagnosisErrorCode.MODEL_HASH_MISMATCH,
            details={"task": card.get("task"), "version": card.get("version"), "sha256": actual},
        )
    import skops.io as sio  # imported on first use: web processes start lighter

    untrusted = sorted(set(sio.get_untrusted_types(data=payload)) - set(TRUSTED_TYPES))
    if untrusted:
        raise diagnosis_error(
            DiagnosisErrorCode.MODEL_UNTRUSTED_TYPES, details={"types": untrusted}
        )
    return sio.loads(payload, trusted=list(TRUSTED_TYPES))
