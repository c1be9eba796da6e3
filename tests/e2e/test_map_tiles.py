"""Maps over tiles: with `YUNYI_MAP_TILE_URL` set, "Find a doctor" draws its map with Leaflet over
the tile layer, and the points still show when every tile fails to load (here the tile path
answers 404, as an unreachable tile server would)."""

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.steps import submit_password
from tests.support.live_server import REPO, LiveServer, running_server
from yunyi.accounts.management.commands.demo import DEMO_PASSWORD

TILES = "/static/no-such-tiles/{z}/{x}/{y}.png"  # same origin, so the CSP allows it; never found


@pytest.fixture(scope="module")
def tiled_server(yunyi_server: LiveServer) -> Iterator[LiveServer]:
    # Asking for `yunyi_server` first keeps its checks (Chromium, built web app) in one place.
    python_path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    extra = {
        "YUNYI_MAP_TILE_URL": TILES,
        "YUNYI_MAP_TILE_ATTRIBUTION": "Yunyi test tiles",
        "PYTHONPATH": python_path,
    }
    with running_server(extra_env=extra) as server:
        yield server


def test_find_a_doctor_draws_over_tiles_and_keeps_its_points_when_tiles_fail(
    page: Page, tiled_server: LiveServer
) -> None:
    failed_tiles: list[str] = []
    page.on(
        "response",
        lambda r: (
            failed_tiles.append(r.url) if "/no-such-tiles/" in r.url and r.status == 404 else None
        ),
    )
    page.goto(f"{tiled_server.url}/find-doctor?department=endocrinology")
    submit_password(page, identifier="patient1", password=DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/find-doctor\?department=endocrinology$"))
    expect(page.get_by_test_id("find-result").first).to_be_visible()

    tiled = page.get_by_test_id("find-map").locator(".tile-map[data-map-kind='tiles']")
    expect(tiled).to_have_attribute("data-ready", "true")
    expect(tiled.locator(".leaflet-container")).to_be_visible()
    expect(tiled.locator(".leaflet-control-attribution")).to_contain_text("Yunyi test tiles")
    expect(tiled.get_by_test_id("tile-map-legend")).to_be_visible()
    # Every tile failed, and the points were drawn on the overlay all the same.
    expect(tiled).not_to_have_attribute("data-tile-errors", "0")
    expect(
        tiled.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane path").first
    ).to_be_visible()
    assert failed_tiles, "the map never requested a tile"
