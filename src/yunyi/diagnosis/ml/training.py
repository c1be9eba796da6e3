"""Training one task: a neural network and a logistic-regression baseline, each with its
hyper-parameters chosen by stratified cross-validation on the training data only, the network's
probabilities calibrated, thresholds chosen on out-of-fold training predictions (Youden), and
every figure measured once on the held-out test data.

Reproducible by construction: every random choice takes a seed from `TrainingConfig`, and BLAS
runs on one thread (the machine is shared, and a fixed thread count keeps sums in one order).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from sklearn import config_context
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from yunyi.diagnosis.ml.evaluation import (
    FloatArray,
    metrics_with_intervals,
    youden_threshold,
)
from yunyi.diagnosis.ml.tasks import Dataset, Task, mayo_pbc_risk_score


@dataclass(frozen=True)
class TrainingConfig:
    seed: int = 20240611
    cv_folds: int = 5
    mlp_hidden: tuple[tuple[int, ...], ...] = ((4,), (8,), (16,))
    mlp_alpha: tuple[float, ...] = (1e-3, 1e-1, 1.0)
    lr_c: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
    bootstrap_resamples: int = 1000

    def as_card(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "cv_folds": self.cv_folds,
            "grid": {
                "mlp_hidden_layer_sizes": [list(h) for h in self.mlp_hidden],
                "mlp_alpha": list(self.mlp_alpha),
                "logistic_regression_C": list(self.lr_c),
            },
            "bootstrap_resamples": self.bootstrap_resamples,
        }


# The configuration `yunyi train-models` uses; tests use a one-point grid and fewer resamples.
FULL: Final = TrainingConfig()
FAST: Final = TrainingConfig(
    cv_folds=3, mlp_hidden=((8,),), mlp_alpha=(1e-1,), lr_c=(1.0,), bootstrap_resamples=100
)


@dataclass
class TrainedTask:
    task: Task
    config: TrainingConfig
    model: CalibratedClassifierCV
    baseline: Pipeline
    threshold: float
    baseline_threshold: float
    chosen: dict[str, Any]
    cv_auroc: dict[str, float]
    metrics: dict[str, dict[str, dict[str, float]]]
    training_stats: dict[str, dict[str, float]]
    y_test: Any
    test_probability: dict[str, FloatArray] = field(default_factory=dict)
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def _mlp(seed: int) -> Pipeline:
    # Adam with early stopping on 20% of the training fold; a step of 0.01 because these data
    # sets are a few hundred rows and 0.001 stopped early on noisy validation accuracy.
    return Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "mlp",
                MLPClassifier(
                    early_stopping=True,
                    validation_fraction=0.2,
                    n_iter_no_change=30,
                    learning_rate_init=0.01,
                    max_iter=3000,
                    random_state=seed,
                ),
            ),
        ]
    )


def _logistic() -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=2000))])


def _search(
    estimator: BaseEstimator, grid: dict[str, list[Any]], data: Dataset, folds: StratifiedKFold
) -> GridSearchCV:
    search = GridSearchCV(estimator, grid, scoring="roc_auc", cv=folds, n_jobs=1, refit=False)
    return search.fit(data.x_train, data.y_train)


def train_task(*, task: Task, config: TrainingConfig = FULL) -> TrainedTask:
    """Fit, calibrate, choose thresholds and measure `task` (see the module docstring)."""
    began = time.perf_counter()
    data = task.load()
    folds = StratifiedKFold(config.cv_folds, shuffle=True, random_state=config.seed)
    # The data are validated once by the loaders: skipping scikit-learn's per-call checks halves
    # the time of small fits, where the network's per-epoch scoring is mostly validation.
    with (
        threadpool_limits(1),
        config_context(assume_finite=True, skip_parameter_validation=True),
        warnings.catch_warnings(),
    ):
        # Early stopping ends most fits; a fit that hits max_iter is still a valid candidate.
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp_search = _search(
            _mlp(config.seed),
            {
                "mlp__hidden_layer_sizes": list(config.mlp_hidden),
                "mlp__alpha": list(config.mlp_alpha),
            },
            data,
            folds,
        )
        lr_search = _search(_logistic(), {"lr__C": list(config.lr_c)}, data, folds)

        network = clone(_mlp(config.seed)).set_params(**mlp_search.best_params_)
        # Platt scaling fitted on out-of-fold predictions, then one network refitted on all the
        # training data (ensemble=False): one network to run per request.
        model = CalibratedClassifierCV(network, method="sigmoid", cv=folds, ensemble=False)
        oof_model = cross_val_predict(
            clone(model), data.x_train, data.y_train, cv=folds, method="predict_proba"
        )[:, 1]
        model.fit(data.x_train, data.y_train)

        baseline = clone(_logistic()).set_params(**lr_search.best_params_)
        oof_baseline = cross_val_predict(
            clone(baseline), data.x_train, data.y_train, cv=folds, method="predict_proba"
        )[:, 1]
        baseline.fit(data.x_train, data.y_train)

    threshold = youden_threshold(y=data.y_train, probability=oof_model)
    baseline_threshold = youden_threshold(y=data.y_train, probability=oof_baseline)
    probability = {
        "model": model.predict_proba(data.x_test)[:, 1],
        "baseline": baseline.predict_proba(data.x_test)[:, 1],
    }
    metrics = {
        "model": metrics_with_intervals(
            y=data.y_test,
            probability=probability["model"],
            threshold=threshold,
            resamples=config.bootstrap_resamples,
            seed=config.seed,
        ),
        "baseline": metrics_with_intervals(
            y=data.y_test,
            probability=probability["baseline"],
            threshold=baseline_threshold,
            resamples=config.bootstrap_resamples,
            seed=config.seed,
        ),
    }
    if "edema" in data.test_extra:
        # The published Mayo score is a linear predictor, not a probability: only its AUROC
        # (a rank statistic) is comparable, so it is the only figure reported for it.
        score = mayo_pbc_risk_score(x=data.x_test, edema=data.test_extra["edema"])
        mayo = metrics_with_intervals(
            y=data.y_test,
            probability=score,
            threshold=float(np.inf),
            resamples=config.bootstrap_resamples,
            seed=config.seed,
        )
        metrics["published_model"] = {"auroc": mayo["auroc"]}
    return TrainedTask(
        task=task,
        config=config,
        model=model,
        baseline=baseline,
        threshold=round(threshold, 6),
        baseline_threshold=round(baseline_threshold, 6),
        chosen={
            "model": _plain(mlp_search.best_params_),
            "baseline": _plain(lr_search.best_params_),
        },
        cv_auroc={
            "model": round(float(mlp_search.best_score_), 4),
            "baseline": round(float(lr_search.best_score_), 4),
        },
        metrics=metrics,
        training_stats=_training_stats(task, data),
        y_test=data.y_test,
        test_probability=probability,
        seconds=time.perf_counter() - began,
        counts={
            "train": len(data.y_train),
            "train_positive": int(data.y_train.sum()),
            "test": len(data.y_test),
            "test_positive": int(data.y_test.sum()),
        },
    )


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {
        key.split("__", 1)[1]: list(value) if isinstance(value, tuple) else value
        for key, value in params.items()
    }


def _training_stats(task: Task, data: Dataset) -> dict[str, dict[str, float]]:
    """Per input: the training range (for the out-of-distribution flag) and median (the
    reference value of the per-patient explanation)."""
    return {
        spec.name: {
            "min": float(np.min(data.x_train[:, i])),
            "max": float(np.max(data.x_train[:, i])),
            "median": float(np.median(data.x_train[:, i])),
        }
        for i, spec in enumerate(task.inputs)
    }
