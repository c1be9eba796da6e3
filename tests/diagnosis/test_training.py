"""Training on the real packaged data in the fast configuration (one-point grid)."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.diagnosis.conftest import Trained
from yunyi.diagnosis.ml.evaluation import METRICS, auroc, youden_threshold
from yunyi.diagnosis.ml.registry import CARD_FILE, MODEL_FILE, TRUSTED_TYPES
from yunyi.diagnosis.ml.tasks import TASKS


def test_data_come_from_packages_with_the_published_splits(trained: Trained) -> None:
    assert trained.trained["pima_diabetes"].counts == {
        "train": 200, "train_positive": 68, "test": 332, "test_positive": 109,
    }  # fmt: skip
    assert trained.trained["wdbc_malignancy"].counts == {
        "train": 398, "train_positive": 148, "test": 171, "test_positive": 64,
    }  # fmt: skip
    assert trained.trained["pbc_mortality"].counts == {
        "train": 244, "train_positive": 85, "test": 66, "test_positive": 29,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("task", "floor"),
    [("pima_diabetes", 0.75), ("wdbc_malignancy", 0.95), ("pbc_mortality", 0.70)],
)
def test_network_auroc_on_held_out_test_data_is_above_floor(
    trained: Trained, task: str, floor: float
) -> None:
    measured = trained.trained[task].metrics["model"]["auroc"]
    assert measured["value"] > floor
    assert measured["low"] <= measured["value"] <= measured["high"]


def test_every_metric_has_a_bootstrap_interval_around_its_value(trained: Trained) -> None:
    for result in trained.trained.values():
        for model in ("model", "baseline"):
            assert set(result.metrics[model]) == set(METRICS)
            for metric in result.metrics[model].values():
                assert 0.0 <= metric["low"] <= metric["value"] <= metric["high"] <= 1.0


def test_threshold_is_chosen_on_training_data_and_lies_inside_zero_one(trained: Trained) -> None:
    for result in trained.trained.values():
        assert 0.0 < result.threshold < 1.0
        assert 0.0 < result.baseline_threshold < 1.0


def test_youden_threshold_picks_the_cut_with_the_highest_j() -> None:
    import numpy as np

    y = np.array([0, 0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.85, 0.4, 0.8, 0.9])
    # J by cut: 0.9 -> 1/3, 0.85 -> 1/12, 0.8 -> 5/12, 0.4 -> 3/4, 0.3 -> 1/2.
    assert youden_threshold(y=y, probability=p) == 0.4


def test_auroc_equals_scikit_learn_with_ties() -> None:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    y = np.array([0, 1, 0, 1, 1, 0, 1])
    score = np.array([0.2, 0.2, 0.5, 0.7, 0.5, 0.1, 0.9])
    assert auroc(y=y, score=score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_pbc_card_scores_the_published_mayo_model_on_our_test_patients(trained: Trained) -> None:
    card = trained.artifacts["pbc_mortality"].card
    (published,) = card["published"]
    assert published["kind"] == "reported"
    assert published["source"].startswith("E. R. Dickson")
    assert published["measured_here"]["value"] > 0.75


def test_card_declares_use_data_inputs_metrics_limits_date_and_hash(trained: Trained) -> None:
    artifact = trained.artifacts["pima_diabetes"]
    card = artifact.card
    on_disk = json.loads(
        (trained.root / "pima_diabetes" / artifact.version / CARD_FILE).read_text()
    )
    assert on_disk == card
    assert card["version"] == artifact.sha256[:12]
    assert card["files"]["model"] == {"name": MODEL_FILE, "sha256": artifact.sha256}
    assert card["trained_at"] == "2024-06-11T00:00:00+00:00"
    assert card["intended_use"] == TASKS["pima_diabetes"].intended_use
    assert [i["name"] for i in card["inputs"]] == list(TASKS["pima_diabetes"].input_names)
    glucose = card["inputs"][1]
    assert glucose["loinc"] == "1518-0"
    assert glucose["accepted_units"] == ["mg/dL", "mmol/L"]
    assert card["published"][0]["value"] == 0.80
    assert card["limits"] == list(TASKS["pima_diabetes"].limits)
    assert card["threshold"]["rule"].startswith("Youden's J on out-of-fold")


def test_plots_are_png_files_named_on_the_card(trained: Trained) -> None:
    artifact = trained.artifacts["wdbc_malignancy"]
    directory = trained.root / "wdbc_malignancy" / artifact.version
    for name in ("roc", "calibration"):
        data = (directory / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert artifact.card["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()


def test_model_file_is_a_skops_zip_holding_only_trusted_types(trained: Trained) -> None:
    import skops.io as sio

    artifact = trained.artifacts["pbc_mortality"]
    data = (trained.root / artifact.model_path).read_bytes()
    assert data[:2] == b"PK"
    assert set(sio.get_untrusted_types(data=data)) <= set(TRUSTED_TYPES)
