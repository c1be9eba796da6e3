"""GET /api/v1/matching/map-config: the map tile source is a setting, public like the maps that
use it; unset (the default and offline), the answer says "no tiles"."""

from __future__ import annotations

import pytest
from django.test import Client

URL = "/api/v1/matching/map-config"


@pytest.mark.django_db
def test_no_tiles_by_default_and_no_login_needed(settings):
    settings.MAP_TILE_URL = ""
    settings.MAP_TILE_ATTRIBUTION = ""

    response = Client().get(URL)

    assert response.status_code == 200
    assert response.json() == {"tile_url": None, "attribution": ""}


@pytest.mark.django_db
def test_configured_tile_source_is_returned_as_set(settings):
    settings.MAP_TILE_URL = "https://tiles.example.cn/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "© 示例地图"

    response = Client().get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "tile_url": "https://tiles.example.cn/{z}/{x}/{y}.png",
        "attribution": "© 示例地图",
    }


@pytest.mark.django_db
def test_only_get_is_allowed(settings):
    response = Client().post(URL, {}, "application/json")

    assert response.status_code == 405
