"""Concurrent callers for race tests: each runs on its own thread (so its own database
connection), all released together by a barrier, connections closed when done."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def at_once(action: Callable[[int], T], callers: int) -> list[T | Exception]:
    """`action(n)` for n in 0..callers-1, started together; each result, or the exception it
    raised, in the order the callers finished."""
    barrier = threading.Barrier(callers)
    outcomes: list[T | Exception] = []
    lock = threading.Lock()

    def caller(n: int) -> None:
        try:
            barrier.wait()
            outcome: T | Exception = action(n)
        except Exception as error:  # the race's loser: returned, not lost in the thread
            outcome = error
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
