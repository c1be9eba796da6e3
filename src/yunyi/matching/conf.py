"""Matching's settings (`MATCHING_*`, from `YUNYI_*` variables) as the pure modules' types."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from yunyi.matching.errors import MatchingInputError
from yunyi.matching.ranking import RankingWeights, SearchLimits


@dataclass(frozen=True)
class MatchingConfig:
    weights: RankingWeights
    limits: SearchLimits
    refresh_seconds: float
    queue_minutes_per_patient: float


def matching_config() -> MatchingConfig:
    """Read on each call (cheap), so tests that override settings see their values."""
    known = {f.name for f in fields(RankingWeights)}
    given: dict[str, float] = dict(getattr(settings, "MATCHING_WEIGHTS", {}))
    unknown = sorted(set(given) - known)
    if unknown:
        raise ImproperlyConfigured(f"YUNYI_MATCHING_WEIGHTS: unknown weights {unknown}")
    try:
        weights = RankingWeights(**given)
    except MatchingInputError as exc:
        raise ImproperlyConfigured(f"YUNYI_MATCHING_WEIGHTS: {exc.message}") from exc
    limits = SearchLimits(
        max_radius_km=float(settings.MATCHING_MAX_RADIUS_KM),
        max_limit=int(settings.MATCHING_MAX_RESULTS),
        max_window=timedelta(days=int(settings.MATCHING_MAX_WINDOW_DAYS)),
        max_candidates=int(settings.MATCHING_MAX_CANDIDATES),
    )
    return MatchingConfig(
        weights=weights,
        limits=limits,
        refresh_seconds=float(settings.MATCHING_INDEX_REFRESH_SECONDS),
        queue_minutes_per_patient=float(settings.MATCHING_QUEUE_MINUTES_PER_PATIENT),
    )
