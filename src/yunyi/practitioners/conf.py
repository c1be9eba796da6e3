"""Settings of the practitioners app, read on each call so tests can override them.

`PRACTITIONERS_MAX_SERVICE_RADIUS_KM` caps the radius a doctor may serve for in-person and home
visits; `PRACTITIONERS_MAX_SEARCH_RADIUS_KM` caps a patient's "near me" search.
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_MAX_SERVICE_RADIUS_KM = 50.0
DEFAULT_MAX_SEARCH_RADIUS_KM = 100.0


def max_service_radius_km() -> float:
    return float(
        getattr(settings, "PRACTITIONERS_MAX_SERVICE_RADIUS_KM", DEFAULT_MAX_SERVICE_RADIUS_KM)
    )


def max_search_radius_km() -> float:
    return float(
        getattr(settings, "PRACTITIONERS_MAX_SEARCH_RADIUS_KM", DEFAULT_MAX_SEARCH_RADIUS_KM)
    )
