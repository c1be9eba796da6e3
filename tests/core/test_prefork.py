"""What the pre-forking server's master prepares for its workers (`yunyi.config.prefork`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from yunyi.config.prefork import prepare_workers
from yunyi.emr import validation
from yunyi.emr.search.declarations import searchable_types


@pytest.fixture
def fresh_gc_and_models() -> Iterator[None]:
    validation._model.cache_clear()
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("fresh_gc_and_models")
def test_prepare_workers_builds_every_searchable_types_model_and_freezes_the_heap() -> None:
    assert gc.get_freeze_count() == 0
    prepare_workers()
    built = validation._model.cache_info().currsize
    assert built >= len(searchable_types())
    assert all(validation.is_resource_type(name) for name in searchable_types())
    # Everything alive at the fork is out of the collector's reach.
    assert gc.get_freeze_count() > 10_000
    # Built once: validating afterwards builds nothing more.
    assert validation.validate_resource({"resourceType": "Observation"})
    assert validation._model.cache_info().currsize == built
