"""`/api/v1/diagnosis/models`: the registry for admins (cards, metrics, plots, activation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from yunyi.audit.models import AuditEntry
from yunyi.diagnosis.models import ModelVersion

MODELS = "/api/v1/diagnosis/models"


def _second_version(task: str) -> ModelVersion:
    """An inactive copy of the task's active version under another version name."""
    active = ModelVersion.objects.get(task=task, is_active=True)
    return ModelVersion.objects.create(
        task=task,
        version="copy00000000",
        file_path=active.file_path,
        sha256=active.sha256,
        card=active.card,
    )


def test_admin_lists_versions_with_metrics_intervals_and_published_figures(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    admin = api_client_for(make_user(roles=["admin"]))
    response = admin.get(MODELS)
    assert response.status_code == 200, response.content
    by_task = {entry["task"]: entry for entry in response.json()}
    assert set(by_task) == {"pima_diabetes", "wdbc_malignancy", "pbc_mortality"}
    pima = by_task["pima_diabetes"]
    assert pima["is_active"] is True and pima["plots"] == ["roc", "calibration"]
    rows = {row["metric"]: row for row in pima["metrics"]}
    assert set(rows) == {"auroc", "accuracy", "sensitivity", "specificity", "brier"}
    auroc = rows["auroc"]["model"]
    assert auroc["low"] <= auroc["value"] <= auroc["high"]
    assert rows["accuracy"]["published"] == 0.80
    assert "Ripley" in rows["accuracy"]["published_source"]
    pbc_auroc = {r["metric"]: r for r in by_task["pbc_mortality"]["metrics"]}["auroc"]
    assert pbc_auroc["published"] is not None  # the Mayo score, measured on our test data


@pytest.mark.parametrize("role", ["doctor", "patient", "operator"])
def test_registry_is_for_admins_only(
    registry: Path, make_user: Any, api_client_for: Any, role: str
) -> None:
    client = api_client_for(make_user(roles=[role]))
    model_id = ModelVersion.objects.first().pk  # type: ignore[union-attr]
    for url in (MODELS, f"{MODELS}/{model_id}/card", f"{MODELS}/{model_id}/plots/roc"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{MODELS}/{model_id}/activate").status_code == 403


def test_card_and_plots_are_served(registry: Path, make_user: Any, api_client_for: Any) -> None:
    admin = api_client_for(make_user(roles=["admin"]))
    version = ModelVersion.objects.get(task="wdbc_malignancy")
    card = admin.get(f"{MODELS}/{version.pk}/card").json()
    assert card["files"]["model"]["sha256"] == version.sha256
    assert card["intended_use"]
    plot = admin.get(f"{MODELS}/{version.pk}/plots/calibration")
    assert plot.status_code == 200 and plot["Content-Type"] == "image/png"
    assert b"".join(plot.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"  # type: ignore[attr-defined]
    for name in ("model", "card", "../../etc/passwd", "roc.png"):
        assert admin.get(f"{MODELS}/{version.pk}/plots/{name}").status_code == 404
    assert admin.get(f"{MODELS}/999999/card").status_code == 404
    assert admin.get(f"{MODELS}/abc/card").status_code == 422


def test_admin_activates_another_version_audited(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    admin_user = make_user(roles=["admin"])
    admin = api_client_for(admin_user)
    previous = ModelVersion.objects.get(task="pbc_mortality", is_active=True)
    copy = _second_version("pbc_mortality")
    response = admin.post(f"{MODELS}/{copy.pk}/activate")
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is True
    active = ModelVersion.objects.filter(task="pbc_mortality", is_active=True)
    assert list(active.values_list("pk", flat=True)) == [copy.pk]
    (entry,) = AuditEntry.objects.filter(action="diagnosis.model_version.activate")
    assert entry.actor_id == str(admin_user.pk)
    assert entry.detail["deactivated"] == [previous.pk]


def test_a_version_whose_file_fails_its_hash_is_never_activated(
    registry: Path, make_user: Any, api_client_for: Any
) -> None:
    admin = api_client_for(make_user(roles=["admin"]))
    copy = _second_version("pima_diabetes")
    copy.sha256 = "0" * 64
    copy.save()
    response = admin.post(f"{MODELS}/{copy.pk}/activate")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "model_hash_mismatch"
    copy.refresh_from_db()
    assert copy.is_active is False
    assert not AuditEntry.objects.filter(action="diagnosis.model_version.activate").exists()
