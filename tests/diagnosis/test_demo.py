"""The diagnosis demo: models available on the first `make run` (trained fast when the registry is
empty, registered from disk when files exist) and the demo patients' diabetes-model inputs."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

from tests.diagnosis.record_helpers import blood_pressure, grant, make_patient, observation
from yunyi.diagnosis.demo import demo_load
from yunyi.diagnosis.ml.tasks import TASKS
from yunyi.diagnosis.models import ModelVersion
from yunyi.emr.models import CurrentResource


def test_demo_trains_then_reuses_models_and_loads_inputs_once(
    make_user: Any, api_client_for: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DIAGNOSIS_MODEL_DIR = tmp_path / "models"
    patient1, pid1 = make_patient(make_user, female=False)
    patient2, pid2 = make_patient(make_user, female=True)
    users = {"patient1": patient1, "patient2": patient2}
    for pid in (pid1, pid2):  # what the emr demo's vital signs provide
        observation(pid, code="39156-5", value=27.0, unit="kg/m2", when="2025-01-01")
        blood_pressure(pid, systolic=132, diastolic=84, when="2025-01-01")

    out = io.StringIO()
    began = time.perf_counter()
    demo_load(users, out)
    first_seconds = time.perf_counter() - began
    assert "trained demo models" in out.getvalue()
    assert ModelVersion.objects.filter(is_active=True).count() == len(TASKS)
    observations = CurrentResource.objects.filter(resource_type="Observation").count()
    assert first_seconds < 30

    out = io.StringIO()
    demo_load(users, out)
    assert out.getvalue() == ""
    assert CurrentResource.objects.filter(resource_type="Observation").count() == observations

    # Registry rows lost, files kept: registered from disk, nothing trained.
    versions = set(ModelVersion.objects.values_list("task", "version"))
    ModelVersion.objects.all().delete()
    out = io.StringIO()
    demo_load(users, out)
    assert out.getvalue() == ""
    assert set(ModelVersion.objects.values_list("task", "version")) == versions

    doctor = make_user(roles=["doctor"])
    grant(doctor, pid2)
    grant(doctor, pid1)
    client = api_client_for(doctor)
    for pid, outside in ((pid2, False), (pid1, True)):
        body = client.get(
            "/api/v1/diagnosis/suggestions", {"patient": pid, "task": "pima_diabetes"}
        ).json()
        (pima,) = body["suggestions"]
        assert pima["status"] == "ok", pima
        assert pima["outside_population"] is outside
