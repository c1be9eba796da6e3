"""Reads of the diagnosis app: the registry, the active model (verified before use) and a
suggestion from explicit inputs. Reading observations from the record comes with the API."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from yunyi.diagnosis.errors import DiagnosisErrorCode, diagnosis_error
from yunyi.diagnosis.ml.inference import InputValue, LoadedModel, Suggestion, suggestion_compute
from yunyi.diagnosis.ml.registry import model_file_load
from yunyi.diagnosis.ml.tasks import task_get
from yunyi.diagnosis.models import ModelVersion

# Loaded estimators by (file path, sha256): a verified file is loaded once per process.
_loaded: dict[tuple[str, str], LoadedModel] = {}
_lock = threading.Lock()


def model_versions_list(*, task: str | None = None) -> QuerySet[ModelVersion]:
    versions = ModelVersion.objects.all()
    return versions.filter(task=task) if task else versions


def model_version_active(*, task: str) -> ModelVersion:
    task_get(task)
    found = ModelVersion.objects.filter(task=task, is_active=True).first()
    if found is None:
        raise diagnosis_error(DiagnosisErrorCode.NO_ACTIVE_MODEL, details={"task": task})
    return found


def model_version_load(*, model_version: ModelVersion) -> LoadedModel:
    """The estimator of `model_version`, refused unless the file's SHA-256 equals both the
    registry row's and the card's."""
    path = Path(settings.DIAGNOSIS_MODEL_DIR) / model_version.file_path
    key = (str(path), model_version.sha256)
    with _lock:
        if key in _loaded:
            return _loaded[key]
    card: dict[str, Any] = model_version.card
    if card.get("files", {}).get("model", {}).get("sha256") != model_version.sha256:
        raise diagnosis_error(
            DiagnosisErrorCode.MODEL_HASH_MISMATCH,
            details={"task": model_version.task, "version": model_version.version},
        )
    estimator = model_file_load(path=path, card=card)
    loaded = LoadedModel(
        task=task_get(model_version.task),
        version=model_version.version,
        estimator=estimator,
        card=card,
    )
    with _lock:
        _loaded[key] = loaded
    return loaded


def model_active_load(*, task: str) -> LoadedModel:
    return model_version_load(model_version=model_version_active(task=task))


def suggestion_from_inputs(*, task: str, inputs: Mapping[str, InputValue]) -> Suggestion:
    """A suggestion of the task's active model from explicit input values."""
    return suggestion_compute(model=model_active_load(task=task), inputs=inputs)
