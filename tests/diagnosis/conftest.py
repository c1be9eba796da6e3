"""Fixtures for the diagnosis app: every task trained once per test session in the fast
configuration (real data, one-point grid), written to a temporary registry."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from yunyi.diagnosis.ml.inference import LoadedModel
from yunyi.diagnosis.ml.registry import WrittenArtifact, artifacts_write, model_file_load
from yunyi.diagnosis.ml.tasks import TASKS
from yunyi.diagnosis.ml.training import FAST, TrainedTask, train_task
from yunyi.diagnosis.models import ModelVersion
from yunyi.diagnosis.services import model_version_register

TRAINED_AT = datetime(2024, 6, 11, tzinfo=UTC)


class Trained:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.trained: dict[str, TrainedTask] = {}
        self.artifacts: dict[str, WrittenArtifact] = {}
        for name, task in TASKS.items():
            self.trained[name] = train_task(task=task, config=FAST)
            self.artifacts[name] = artifacts_write(
                trained=self.trained[name], root=root, trained_at=TRAINED_AT
            )

    def loaded(self, task: str) -> LoadedModel:
        artifact = self.artifacts[task]
        return LoadedModel(
            task=TASKS[task],
            version=artifact.version,
            estimator=model_file_load(path=self.root / artifact.model_path, card=artifact.card),
            card=artifact.card,
        )


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return Trained(tmp_path_factory.mktemp("models"))


@pytest.fixture
def registry(trained: Trained, settings: Any, tmp_path: Path, db: None) -> Path:
    """A copy of the trained registry as `DIAGNOSIS_MODEL_DIR`, every task registered and
    active. A copy, so a test may damage its files without touching the others'."""
    root = tmp_path / "models"
    shutil.copytree(trained.root, root)
    settings.DIAGNOSIS_MODEL_DIR = root
    for artifact in trained.artifacts.values():
        model_version_register(artifact=artifact)
    assert ModelVersion.objects.filter(is_active=True).count() == len(TASKS)
    return root
