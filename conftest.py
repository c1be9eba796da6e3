"""Test mode is set before Django loads (pytest-django imports settings after this file)."""

import os

import pytest

os.environ.setdefault("YUNYI_ENV", "test")


def _on_postgresql() -> bool:
    return os.environ.get("YUNYI_DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _on_postgresql():
        # PostgreSQL-only tests run in the PostgreSQL pass of `make test`; here they are
        # deselected rather than skipped, so a skip always means something is missing.
        postgres_only = [item for item in items if item.get_closest_marker("postgres")]
        if postgres_only:
            config.hook.pytest_deselected(items=postgres_only)
            items[:] = [item for item in items if not item.get_closest_marker("postgres")]
    # Folder decides the suite: browser tests and live-server tests are marked by where they live.
    for item in items:
        path = str(item.path)
        if "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)
        elif "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
