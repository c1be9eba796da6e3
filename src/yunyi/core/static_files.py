"""Static files through WhiteNoise, which indexes them when the process starts. A file removed
since then (the web app rebuilt under a running server, as `make run` users do) must answer 404,
not a 500, so an open tab's stale script fails the way the app's reload-on-new-build expects."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):  # type: ignore[misc]
    @staticmethod
    def serve(static_file: Any, request: HttpRequest) -> HttpResponse:
        try:
            response: HttpResponse = WhiteNoiseMiddleware.serve(static_file, request)
        except FileNotFoundError:
            return HttpResponseNotFound()
        return response
