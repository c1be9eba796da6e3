"""Diagnosis from the record: the feature fetch (target < 50 ms) and a doctor's whole suggestions
request, in process, on the demo record; and the diagnosis demo's own time.

A worker process sets up a fresh database (SQLite, or PostgreSQL when `YUNYI_DATABASE_URL`
names one), runs `yunyi demo` (every app's demo data: patient2's record holds years of vital
signs, labs and a Synthea history, and the diagnosis demo trains the fast models), then times:
- the diagnosis demo alone, training into an empty registry and again when all is in place;
- `record_inputs_read` as doctor1 for all three models' inputs (one Patient read and one
  Observation search, both authorized and audited by the emr);
- `suggestions_show`: the fetch, three models, and the RiskAssessment bookkeeping (the same
  suggestion shown again reuses its record entry).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import bench_database, table

REPEATS = int(os.environ.get("BENCH_DIAGNOSIS_RECORD_REPEATS", "200"))
TARGET_FETCH_MS = 50.0


def _quantiles_ms(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def _timed(call: Any) -> tuple[list[float], float]:
    call()  # warm-up (model load, query compilation)
    samples = []
    cpu = time.process_time()
    for _ in range(REPEATS):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return samples, (time.process_time() - cpu) / REPEATS * 1000


def worker() -> None:
    import io

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from yunyi.accounts.models import User
    from yunyi.diagnosis.demo import demo_load
    from yunyi.diagnosis.ml.tasks import TASKS
    from yunyi.diagnosis.models import ModelVersion
    from yunyi.diagnosis.record import record_inputs_read
    from yunyi.diagnosis.services import suggestions_show
    from yunyi.emr.models import CurrentResource
    from yunyi.emr.policy import Actor

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    call_command("demo", stdout=io.StringIO())
    demo_seconds = time.perf_counter() - began

    users = {u.username: u for u in User.objects.filter(username__in=["patient1", "patient2"])}
    shutil.rmtree(settings.DIAGNOSIS_MODEL_DIR)
    ModelVersion.objects.all().delete()
    began = time.perf_counter()
    demo_load(users, io.StringIO())
    diagnosis_cold = time.perf_counter() - began
    began = time.perf_counter()
    demo_load(users, io.StringIO())
    diagnosis_warm = time.perf_counter() - began

    doctor = User.objects.get(username="doctor1")
    patient_id = str(users["patient2"].pk)
    observations = CurrentResource.objects.filter(
        resource_type="Observation", deleted=False
    ).count()
    fetched = record_inputs_read(
        actor=Actor.for_user(doctor), patient_id=patient_id, tasks=TASKS.values()
    )
    fetch, fetch_cpu = _timed(
        lambda: record_inputs_read(
            actor=Actor.for_user(doctor), patient_id=patient_id, tasks=TASKS.values()
        )
    )
    show, show_cpu = _timed(lambda: suggestions_show(user=doctor, patient_id=patient_id))
    print(
        json.dumps(
            {
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "demo_seconds": demo_seconds,
                "diagnosis_demo_cold": diagnosis_cold,
                "diagnosis_demo_warm": diagnosis_warm,
                "observations": observations,
                "searches": fetched.searches,
                "found": len(fetched.values),
                "fetch": [*_quantiles_ms(fetch), fetch_cpu],
                "show": [*_quantiles_ms(show), show_cpu],
            }
        )
    )


def main() -> None:
    with bench_database("diagnosis") as database, tempfile.TemporaryDirectory() as var:
        env = {k: v for k, v in os.environ.items() if not k.startswith("YUNYI_")}
        env.update(
            {
                "YUNYI_ENV": "demo",
                "YUNYI_VAR_DIR": var,
                "YUNYI_DATABASE_URL": database.url or f"sqlite:///{Path(var) / 'bench.sqlite3'}",
                "DJANGO_SETTINGS_MODULE": "yunyi.config.settings",
            }
        )
        done = subprocess.run(
            [sys.executable, "-c", "from bench.diagnosis_record import worker; worker()"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
    if done.returncode != 0:
        print(done.stderr[-3000:])
        raise SystemExit("diagnosis record bench failed")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    fetch, show = result["fetch"], result["show"]
    print(
        table(
            f"Diagnosis from the record, in process ({database.label}, {REPEATS} requests, "
            f"{result['observations']} Observations in the database)",
            ("step", "p50 ms", "p99 ms", "CPU ms/req", "target", "met"),
            [
                [
                    f"feature fetch ({result['searches']} search, {result['found']} inputs found)",
                    fetch[0],
                    fetch[1],
                    fetch[2],
                    f"< {TARGET_FETCH_MS:.0f} ms",
                    "yes" if fetch[1] < TARGET_FETCH_MS else "NO",
                ],
                [
                    "doctor's suggestions (fetch + 3 models + record)",
                    show[0],
                    show[1],
                    show[2],
                    "",
                    "",
                ],
            ],
        )
    )
    print()
    print(
        table(
            "Demo data (`yunyi demo`)",
            ("step", "seconds"),
            [
                ["yunyi demo, all apps, fresh database", result["demo_seconds"]],
                [
                    "diagnosis demo, empty registry (trains fast models)",
                    result["diagnosis_demo_cold"],
                ],
                ["diagnosis demo, everything in place", result["diagnosis_demo_warm"]],
            ],
        )
    )


if __name__ == "__main__":
    main()
