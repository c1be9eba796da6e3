"""Opaque keyset cursors for stable paging: a page continues after (or before) the sort values and
row id of a boundary row, so rows inserted or removed elsewhere never shift or repeat a page.

A cursor only positions a page; the query's criteria and the caller's access policy still decide
what is returned, so a forged cursor reveals nothing. Malformed cursors raise `CursorError`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class CursorError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Cursor:
    keys: tuple[Any, ...]  # the boundary row's sort values (None for a missing value)
    row: int  # the boundary row's primary key, the final tie-breaker
    forward: bool = True  # True: rows after the boundary; False: rows before it


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        try:
            return datetime.fromisoformat(str(value["t"]))
        except (KeyError, ValueError) as error:
            raise CursorError("bad cursor value") from error
    if value is not None and not isinstance(value, str | int | float):
        raise CursorError("bad cursor value")
    return value


def encode_cursor(cursor: Cursor) -> str:
    body = {"k": [_encode_value(v) for v in cursor.keys], "r": cursor.row, "f": cursor.forward}
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, *, key_count: int) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        body = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise CursorError("malformed cursor") from error
    if not isinstance(body, dict):
        raise CursorError("malformed cursor")
    keys, row, forward = body.get("k"), body.get("r"), body.get("f")
    if not isinstance(keys, list) or len(keys) != key_count:
        raise CursorError("cursor does not fit this search")
    if not isinstance(row, int) or isinstance(row, bool) or not isinstance(forward, bool):
        raise CursorError("malformed cursor")
    return Cursor(tuple(_decode_value(v) for v in keys), row, forward)
