"""Health check and the single-page app's entry document."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

SPA_INDEX = Path(settings.SRC_DIR) / "static" / "app" / "index.html"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@cache
def _spa_document() -> bytes | None:
    return SPA_INDEX.read_bytes() if SPA_INDEX.exists() else None


@require_GET
def spa(request: HttpRequest, path: str = "") -> HttpResponse:
    document = _spa_document()
    if document is None:
        return HttpResponse(
            "The web app is not built yet: run `make run` (or `make frontend`).",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(document, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
