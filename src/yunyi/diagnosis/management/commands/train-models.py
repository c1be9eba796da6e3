"""`yunyi train-models [--task T ...] [--fast]`: train every diagnosis model reproducibly,
write the registry (model file, card, plots), activate the new versions and print the metrics
table. The same data and seeds give the same files, hence the same versions."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from yunyi.diagnosis.ml.report import metrics_table
from yunyi.diagnosis.ml.tasks import TASKS
from yunyi.diagnosis.ml.training import FAST, FULL
from yunyi.diagnosis.services import TrainingResult, models_train


class Command(BaseCommand):
    help = "Train the diagnosis models, write them to the registry and activate them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--task", action="append", choices=sorted(TASKS), help="train only this task"
        )
        parser.add_argument(
            "--fast",
            action="store_true",
            help="one-point grid and fewer bootstrap resamples (for tests and demos)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = options["task"] or list(TASKS)
        began = time.perf_counter()
        progress = tqdm(total=len(names), desc="training", unit="task", file=self.stderr._out)
        progress.set_postfix_str(names[0])

        def on_trained(result: TrainingResult) -> None:
            done = progress.n + 1
            progress.set_postfix_str(names[done] if done < len(names) else "done", refresh=False)
            progress.update(1)

        results = models_train(
            tasks=names, config=FAST if options["fast"] else FULL, on_trained=on_trained
        )
        progress.close()
        for result in results:
            version = result.model_version
            state = "new" if result.created else "unchanged"
            self.stdout.write(
                f"{version.task}: version {version.version} active ({state}), "
                f"{result.trained.seconds:.1f} s"
            )
        self.stdout.write(metrics_table([r.model_version.card for r in results]))
        self.stdout.write(f"total training time: {time.perf_counter() - began:.1f} s")
