"""The metrics table of trained tasks: every model against its baseline and the published
figures, as printed by `yunyi train-models` and the benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yunyi.diagnosis.ml.evaluation import METRICS


def _cell(metric: dict[str, float] | None) -> str:
    if metric is None:
        return "-"
    return f"{metric['value']:.3f} ({metric['low']:.3f}-{metric['high']:.3f})"


def metrics_rows(card: dict[str, Any]) -> list[list[str]]:
    """Rows of one card: network, baseline, then each published figure (reported)."""
    rows = []
    for key, label in (("model", "MLP (calibrated)"), ("baseline", "logistic regression")):
        measured = card["metrics"][key]
        rows.append([card["task"], label, *(_cell(measured[name]) for name in METRICS)])
    for figure in card["published"]:
        cells = ["-"] * len(METRICS)
        column = list(METRICS).index(figure["metric"])
        if figure.get("measured_here"):
            cells[column] = _cell(figure["measured_here"]) + " *"
        elif figure["value"] is not None:
            cells[column] = f"{figure['value']:.3f} reported"
        rows.append([card["task"], f"published: {figure['source'].split(',')[0]}", *cells])
    return rows


def metrics_table(cards: Sequence[dict[str, Any]]) -> str:
    header = ["task", "model", *METRICS]
    rows = [header] + [row for card in cards for row in metrics_rows(card)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]  # fmt: skip
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append(
        "Held-out test data; 95% bootstrap intervals in brackets; sensitivity, specificity and "
        "accuracy at the threshold chosen on training data (Youden, out-of-fold). "
        "* = a published model scored here on our test data."
    )
    return "\n".join(lines)
