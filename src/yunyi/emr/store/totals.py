"""Bundle.total when the client did not ask for an exact one: remembered for a few seconds.

A search with more matches than fit on its page has to count them all for its total, and that
costs more than the page: `Condition?code=…` with 2,466 matches among a million resources spends
about 0.5 ms of PostgreSQL's time counting against 0.3 ms for the page of 50, and pays it again
for every page and every repeat. R4 leaves the exactness of the total to the server unless the
client asks (the search result parameter `_total`: `accurate`; `estimate` and no `_total` at all
accept less), so a count is kept per process, keyed by the search's criteria, and reused:

- until this process writes a resource of the searched type (at the write and again when it
  commits, so a count taken while the write was in flight is not kept either);
- for at most `EMR_ESTIMATED_TOTAL_SECONDS` (setting `YUNYI_FHIR_ESTIMATED_TOTAL_SECONDS`; 0 turns
  the reuse off), which bounds how late another process's writes show in the total.

Which resources a search returns, and its paging links, never come from here: only the number.
The key holds every criterion, including those an actor's access adds (a patient's compartment),
so a count is only ever reused for the same question.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Final

from django.conf import settings
from django.db import transaction

from yunyi.emr.search.plan import SearchPlan

MAX_ENTRIES: Final = 10_000  # counts remembered per process; the oldest go first


class _Totals:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key -> (count, monotonic deadline, generation of its type when counted)
        self._counts: OrderedDict[Hashable, tuple[int, float, int]] = OrderedDict()
        self._generations: dict[str, int] = {}

    def total(self, plan: SearchPlan, count: Callable[[], int]) -> int:
        seconds = float(settings.EMR_ESTIMATED_TOTAL_SECONDS)
        if seconds <= 0:
            return count()
        try:
            key: Hashable = (plan.resource_type, plan.criteria)
            hash(key)
        except TypeError:  # a criterion value that cannot be a key: count every time
            return count()
        generation = self._generations.get(plan.resource_type, 0)
        now = time.monotonic()
        found = self._counts.get(key)
        if found is not None and found[1] > now and found[2] == generation:
            return found[0]
        counted = count()
        with self._lock:
            self._counts[key] = (counted, now + seconds, generation)
            self._counts.move_to_end(key)
            while len(self._counts) > MAX_ENTRIES:
                self._counts.popitem(last=False)
        return counted

    def forget(self, resource_types: Iterable[str]) -> None:
        with self._lock:
            for resource_type in resource_types:
                self._generations[resource_type] = self._generations.get(resource_type, 0) + 1

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


_TOTALS: Final = _Totals()


def estimated_total(plan: SearchPlan, count: Callable[[], int]) -> int:
    """`count()`, or the number it gave for the same criteria a moment ago (see the module)."""
    return _TOTALS.total(plan, count)


def wrote(resource_types: Iterable[str]) -> None:
    """Resources of these types are being written in the current transaction: the counts kept
    for them are dropped now and again once it commits."""
    written = frozenset(resource_types)
    _TOTALS.forget(written)
    transaction.on_commit(lambda: _TOTALS.forget(written))


def clear() -> None:
    """Forget every kept count (tests start from nothing)."""
    _TOTALS.clear()
