"""Client policy decisions DOT asks us about."""

from __future__ import annotations


def pkce_required(client_id: str) -> bool:
    return True
