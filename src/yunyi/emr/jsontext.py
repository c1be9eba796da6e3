"""JSON text on the record's hot paths. orjson (C) parses a stored document about 2.6× and encodes
a response about 10× faster than the standard library, and encodes exactly what the API sends
anyway (compact separators, UTF-8, nothing escaped to ASCII; a float's exponent may be spelled
`1e-7` where the standard library writes `1e-07`, the same number). What it refuses and the standard
library takes — an integer beyond 64 bits — goes to the standard library."""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(text: str | bytes) -> Any:
    """A document the store kept (valid JSON by construction)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII characters as they are."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
