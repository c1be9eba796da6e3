"""WebSocket routes (`/ws/...`); apps that speak WebSocket add theirs here."""

from typing import Any


def websocket_routes() -> list[Any]:
    return []
