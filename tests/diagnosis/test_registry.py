"""The registry: versioned rows, one active version per task, and files refused when their hash
does not match their card."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from tests.diagnosis.conftest import Trained
from yunyi.core.errors import ApplicationError
from yunyi.diagnosis.ml.registry import model_file_load
from yunyi.diagnosis.models import ModelVersion
from yunyi.diagnosis.selectors import model_active_load, model_version_active
from yunyi.diagnosis.services import model_version_activate


def test_registering_activates_one_version_per_task(registry: Path) -> None:
    active = model_version_active(task="wdbc_malignancy")
    assert active.is_active
    assert active.file_path == f"wdbc_malignancy/{active.version}/model.skops"
    assert active.card["files"]["model"]["sha256"] == active.sha256


def test_activating_another_version_deactivates_the_previous_one(registry: Path) -> None:
    previous = model_version_active(task="pima_diabetes")
    other = ModelVersion.objects.create(
        task="pima_diabetes", version="other", file_path="x", sha256="0" * 64, card={}
    )
    model_version_activate(model_version=other)
    assert model_version_active(task="pima_diabetes").pk == other.pk
    previous.refresh_from_db()
    assert previous.is_active is False
    assert ModelVersion.objects.filter(task="pima_diabetes", is_active=True).count() == 1


def test_database_refuses_two_active_versions_of_one_task(registry: Path) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(
            task="pima_diabetes", version="second", file_path="x", sha256="0" * 64, card={},
            is_active=True,
        )  # fmt: skip
    assert ModelVersion.objects.filter(task="pima_diabetes").count() == 1


def test_loading_refuses_a_model_file_whose_hash_differs_from_its_card(registry: Path) -> None:
    active = model_version_active(task="pbc_mortality")
    path = registry / active.file_path
    data = bytearray(path.read_bytes())
    data[-40] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ApplicationError) as caught:
        model_active_load(task="pbc_mortality")
    assert caught.value.code == "model_hash_mismatch"
    assert caught.value.status == 409
    with translation.override("en"):
        assert str(caught.value.message) == (
            "The model file does not match the hash on its model card; it was not loaded."
        )
    with translation.override("zh-hans"):
        assert str(caught.value.message) == "模型文件与其模型卡上的哈希值不符,未加载。"
    active.refresh_from_db()
    assert active.is_active is True
    assert path.read_bytes() == bytes(data)


def test_loading_refuses_a_card_whose_hash_differs_from_the_registry_row(registry: Path) -> None:
    active = model_version_active(task="pbc_mortality")
    active.card = {**active.card, "files": {"model": {"sha256": "f" * 64}}}
    active.save()
    with pytest.raises(ApplicationError) as caught:
        model_active_load(task="pbc_mortality")
    assert caught.value.code == "model_hash_mismatch"


def test_loading_refuses_a_missing_model_file(registry: Path) -> None:
    active = model_version_active(task="wdbc_malignancy")
    (registry / active.file_path).unlink()
    with pytest.raises(ApplicationError) as caught:
        model_active_load(task="wdbc_malignancy")
    assert caught.value.code == "model_file_missing"


def test_loading_refuses_a_file_with_untrusted_types_even_when_its_hash_matches(
    tmp_path: Path,
) -> None:
    import hashlib
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    # A transformer that would run a shell command: exactly what a tampered file would hold.
    data = sio.dumps(FunctionTransformer(func=os.system))
    path = tmp_path / "model.skops"
    path.write_bytes(data)
    card = {"files": {"model": {"sha256": hashlib.sha256(data).hexdigest()}}}
    with pytest.raises(ApplicationError) as caught:
        model_file_load(path=path, card=card)
    assert caught.value.code == "model_untrusted_types"
    assert caught.value.details == {"types": ["posix.system"]}


def test_no_active_model_is_a_clear_error(db: None) -> None:
    with pytest.raises(ApplicationError) as caught:
        model_active_load(task="pima_diabetes")
    assert caught.value.code == "no_active_model"
    assert caught.value.status == 404


def test_unknown_task_is_a_clear_error(db: None) -> None:
    with pytest.raises(ApplicationError) as caught:
        model_version_active(task="astrology")
    assert caught.value.code == "unknown_task"


def test_train_models_command_writes_the_same_file_as_an_independent_training(
    trained: Trained, settings: Any, tmp_path: Path, db: None
) -> None:
    settings.DIAGNOSIS_MODEL_DIR = tmp_path
    out = StringIO()
    call_command("train-models", "--task", "pima_diabetes", "--fast", stdout=out, stderr=StringIO())
    expected = trained.artifacts["pima_diabetes"]
    row = ModelVersion.objects.get()
    assert (row.task, row.version, row.sha256, row.is_active) == (
        "pima_diabetes", expected.version, expected.sha256, True,
    )  # fmt: skip
    # Byte-identical model files from two trainings of the same data.
    assert (tmp_path / row.file_path).read_bytes() == (
        trained.root / expected.model_path
    ).read_bytes()
    card = json.loads((tmp_path / "pima_diabetes" / row.version / "card.json").read_text())
    assert {k: v for k, v in card.items() if k not in ("trained_at", "training_seconds")} == {
        k: v for k, v in expected.card.items() if k not in ("trained_at", "training_seconds")
    }
    output = out.getvalue()
    assert f"pima_diabetes: version {expected.version} active (new)" in output
    assert "published: B. D. Ripley (1996)" in output
    assert "total training time:" in output
