"""Writes of the diagnosis app: training models into the registry and choosing the active one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yunyi.diagnosis.ml.registry import WrittenArtifact, artifacts_write
from yunyi.diagnosis.ml.tasks import TASKS, task_get
from yunyi.diagnosis.ml.training import FULL, TrainedTask, TrainingConfig, train_task
from yunyi.diagnosis.models import ModelVersion


@dataclass(frozen=True)
class TrainingResult:
    model_version: ModelVersion
    trained: TrainedTask
    created: bool  # False when the same data gave a version already in the registry


def model_version_activate(*, model_version: ModelVersion) -> ModelVersion:
    """Make `model_version` the one serving its task; the task's rows are locked so two
    activations cannot both win (the partial unique index would refuse the second anyway)."""
    with transaction.atomic():
        rows = ModelVersion.objects.select_for_update().filter(task=model_version.task)
        list(rows.values_list("pk", flat=True))
        rows.exclude(pk=model_version.pk).filter(is_active=True).update(is_active=False)
        rows.filter(pk=model_version.pk).update(is_active=True)
    model_version.is_active = True
    return model_version


def model_version_register(*, artifact: WrittenArtifact, activate: bool = True) -> ModelVersion:
    """The registry row for a written artifact (created once per task and version)."""
    model_version, _ = ModelVersion.objects.get_or_create(
        task=artifact.task,
        version=artifact.version,
        defaults={
            "file_path": artifact.model_path,
            "sha256": artifact.sha256,
            "card": artifact.card,
        },
    )
    if activate:
        model_version_activate(model_version=model_version)
    return model_version


def models_train(
    *,
    tasks: Sequence[str] | None = None,
    config: TrainingConfig = FULL,
    registry_dir: Path | None = None,
    on_trained: Callable[[TrainingResult], None] | None = None,
) -> list[TrainingResult]:
    """Train each task (all by default), write its files to the registry and activate it."""
    names = list(tasks) if tasks else list(TASKS)
    chosen = [task_get(name) for name in names]
    root = registry_dir or Path(settings.DIAGNOSIS_MODEL_DIR)
    results = []
    for task in chosen:
        trained = train_task(task=task, config=config)
        artifact = artifacts_write(trained=trained, root=root, trained_at=timezone.now())
        existed = ModelVersion.objects.filter(task=task.name, version=artifact.version).exists()
        result = TrainingResult(
            model_version=model_version_register(artifact=artifact),
            trained=trained,
            created=not existed,
        )
        results.append(result)
        if on_trained:
            on_trained(result)
    return results
