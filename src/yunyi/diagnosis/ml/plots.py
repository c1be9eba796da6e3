"""ROC and calibration plots of a trained task as PNG bytes (matplotlib, Agg backend, no
display). PNG metadata carries no date and no software version, so the same data gives the
same bytes on the same matplotlib."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from yunyi.diagnosis.ml.training import TrainedTask

_LABELS = {"model": "neural network (calibrated)", "baseline": "logistic regression"}


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def roc_png(trained: TrainedTask) -> bytes:
    figure, axes = plt.subplots(figsize=(5, 5))
    for key, probability in trained.test_probability.items():
        fpr, tpr, _ = roc_curve(trained.y_test, probability)
        auroc = trained.metrics[key]["auroc"]
        label = (
            f"{_LABELS[key]}: AUROC {auroc['value']:.3f} ({auroc['low']:.3f}-{auroc['high']:.3f})"
        )
        axes.plot(fpr, tpr, label=label)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set_xlabel("1 - specificity")
    axes.set_ylabel("sensitivity")
    axes.set_title(f"ROC, held-out test data: {trained.task.name}")
    axes.legend(loc="lower right", fontsize=7)
    return _png(figure)


def calibration_png(trained: TrainedTask) -> bytes:
    figure, axes = plt.subplots(figsize=(5, 5))
    for key, probability in trained.test_probability.items():
        observed, predicted = calibration_curve(
            trained.y_test, probability, n_bins=5, strategy="quantile"
        )
        brier = trained.metrics[key]["brier"]["value"]
        axes.plot(predicted, observed, marker="o", label=f"{_LABELS[key]}: Brier {brier:.3f}")
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set_xlabel("predicted probability (quintiles)")
    axes.set_ylabel("observed frequency")
    axes.set_title(f"Calibration, held-out test data: {trained.task.name}")
    axes.legend(loc="upper left", fontsize=7)
    return _png(figure)
