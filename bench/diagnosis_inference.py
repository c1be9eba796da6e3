"""Diagnosis models: training time of every task (the `yunyi train-models` configuration),
in-process inference latency per request p50/p99 (target p99 < 5 ms: validation, unit
conversion, the probability and the per-input explanation), symptom-triage latency, and the
metrics table (network vs logistic-regression baseline vs published figures).

Requests replay the held-out test patients as explicit inputs, with glucose posted in mmol/L
and bilirubin in µmol/L so unit conversion is on the measured path. The feature fetch from the
record (target < 50 ms) and the diagnosis demo's time follow (`bench.diagnosis_record`).

`BENCH_DIAGNOSIS_FAST=1` trains the one-point test configuration instead.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import diagnosis_record
from bench.harness import table
from yunyi.diagnosis.ml.inference import InputValue, LoadedModel, suggestion_compute
from yunyi.diagnosis.ml.registry import artifacts_write, model_file_load
from yunyi.diagnosis.ml.report import metrics_table
from yunyi.diagnosis.ml.tasks import TASKS
from yunyi.diagnosis.ml.training import FAST, FULL, TrainedTask, train_task
from yunyi.diagnosis.triage.engine import triage_assess

REQUESTS = int(os.environ.get("BENCH_DIAGNOSIS_REQUESTS", "2000"))
TARGET_P99_MS = 5.0
# Posted in a unit other than the model's, to measure conversion too.
POSTED_UNITS = {"glucose_2h_ogtt": ("mmol/L", 1 / 18.016), "bilirubin": ("umol/L", 17.1)}


def _quantiles_ms(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def _requests(trained: TrainedTask) -> list[dict[str, InputValue]]:
    data = trained.task.load()
    requests = []
    for row in data.x_test:
        inputs = {}
        for spec, value in zip(trained.task.inputs, row, strict=True):
            unit, factor = POSTED_UNITS.get(spec.name, (spec.unit, 1.0))
            inputs[spec.name] = InputValue(value=float(value) * factor, unit=unit)
        requests.append(inputs)
    return requests


def _latency(
    model: LoadedModel, requests: list[dict[str, InputValue]]
) -> tuple[list[float], float]:
    """Wall-clock seconds per request, and the mean CPU milliseconds per request (on a shared
    machine the wall p99 includes waiting for a core; CPU time does not)."""
    samples = []
    cpu = time.process_time()
    for i in range(REQUESTS):
        began = time.perf_counter()
        suggestion_compute(model=model, inputs=requests[i % len(requests)])
        samples.append(time.perf_counter() - began)
    return samples, (time.process_time() - cpu) / REQUESTS * 1000


def main() -> None:
    config = FAST if os.environ.get("BENCH_DIAGNOSIS_FAST") == "1" else FULL
    root = Path(tempfile.mkdtemp(prefix="yunyi-bench-models-"))
    training_rows: list[list[Any]] = []
    latency_rows: list[list[Any]] = []
    cards = []
    total_wall = total_cpu = 0.0
    for name, task in TASKS.items():
        wall, cpu = time.perf_counter(), time.process_time()
        trained = train_task(task=task, config=config)
        artifact = artifacts_write(trained=trained, root=root, trained_at=datetime.now(UTC))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        total_wall += wall
        total_cpu += cpu
        training_rows.append([name, wall, cpu, artifact.version])
        cards.append(artifact.card)

        began = time.perf_counter()
        model = LoadedModel(
            task=task,
            version=artifact.version,
            estimator=model_file_load(path=root / artifact.model_path, card=artifact.card),
            card=artifact.card,
        )
        load_ms = (time.perf_counter() - began) * 1000
        requests = _requests(trained)
        suggestion_compute(model=model, inputs=requests[0])  # warm-up
        samples, cpu_ms = _latency(model, requests)
        p50, p99 = _quantiles_ms(samples)
        latency_rows.append([name, len(task.inputs), load_ms, p50, p99, cpu_ms, REQUESTS,
                             "yes" if p99 < TARGET_P99_MS else "NO"])  # fmt: skip
    training_rows.append(["all tasks", total_wall, total_cpu, ""])

    vignette = [
        {"code": "chest_pain", "severity": "mild", "duration_hours": 2},
        {"code": "cough", "severity": "mild", "duration_hours": 48},
        {"code": "fever", "severity": "moderate", "duration_hours": 30},
    ]
    triage = []
    cpu = time.process_time()
    for _ in range(REQUESTS):
        began = time.perf_counter()
        triage_assess(symptoms=vignette, age=54, sex="female")
        triage.append(time.perf_counter() - began)
    triage_cpu_ms = (time.process_time() - cpu) / REQUESTS * 1000
    t50, t99 = _quantiles_ms(triage)
    latency_rows.append(["symptom triage", 3, 0.0, t50, t99, triage_cpu_ms, REQUESTS,
                         "yes" if t99 < TARGET_P99_MS else "NO"])  # fmt: skip

    config_label = "fast (test)" if config is FAST else "full"
    print(table(f"Training, {config_label} configuration, 1 BLAS thread",
                ("task", "wall s", "CPU s", "version"), training_rows))  # fmt: skip
    print()
    print(table(f"Inference in process (target p99 < {TARGET_P99_MS:.0f} ms)",
                ("model", "inputs", "load+verify ms", "p50 ms", "p99 ms", "CPU ms/req", "requests",
                 "met"),
                latency_rows))  # fmt: skip
    print()
    print(metrics_table(cards))
    print(f"registry written to {root}")
    print()
    diagnosis_record.main()


if __name__ == "__main__":
    main()
