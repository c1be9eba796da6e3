"""Running an app's migrations back and forth in a test, to check what a migration does to rows
written before it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

Targets = list[tuple[str, str]]


def migrate(targets: Targets) -> Any:
    """Migrate to `targets`; returns the app registry of that state (its historical models)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@contextmanager
def migrated_back(app: str, before: Targets) -> Iterator[Any]:
    """The historical models at `before`; back at `app`'s latest migrations afterwards, even
    when the test fails."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes(app)
    try:
        yield migrate(before)
    finally:
        migrate(latest)
