"""A real Yunyi server (uvicorn on a free port, fresh SQLite, demo data) for the integration
tests in this folder. It starts once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live_server import LiveServer, running_server


@pytest.fixture(scope="module")
def yunyi_server() -> Iterator[LiveServer]:
    with running_server() as server:
        yield server
