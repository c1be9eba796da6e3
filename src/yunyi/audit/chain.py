"""Hash chaining of audit entries (pure: no Django).

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical JSON, so
changing, removing or reordering any entry breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode())
    digest.update(canonical_json(fields))
    return digest.hexdigest()


def seq_prefix(fields: Mapping[str, Any]) -> bytes:
    """The canonical JSON of an entry's `fields` up to its "seq" number, for a database that
    appends the number it takes from the chain head (`prefixed_hash`). "seq" must sort last."""
    hashed = canonical_json({**fields, "seq": 0})
    if not hashed.endswith(b',"seq":0}'):
        raise AssertionError("the canonical JSON of an audit entry must end with its seq")
    return hashed[: -len(b"0}")]


def prefixed_hash(prev_hash: str, prefix: bytes, seq: int) -> str:
    """`entry_hash(prev_hash, fields)` of an entry whose canonical JSON is `prefix` (`seq_prefix`)
    followed by its seq and the closing brace."""
    digest = hashlib.sha256(prev_hash.encode())
    digest.update(prefix)
    digest.update(b"%d}" % seq)
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def first_break(entries: Iterable[tuple[int, str, str, Mapping[str, Any]]]) -> ChainBreak | None:
    """Walk `(seq, prev_hash, hash, fields)` in seq order; return the first entry that does not fit.

    The chain starts at seq 1 from `GENESIS_HASH` and has no gaps, so a removed entry is named by
    its missing number, a changed one by its hash, and a moved one by its broken link.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for seq, prev_hash, stored_hash, fields in entries:
        if seq != expected_seq:
            return ChainBreak(expected_seq, f"entry {expected_seq} is missing")
        if prev_hash != expected_prev:
            return ChainBreak(seq, "does not link to the entry before it")
        if entry_hash(prev_hash, fields) != stored_hash:
            return ChainBreak(seq, "its content does not match its hash")
        expected_prev = stored_hash
        expected_seq = seq + 1
    return None
