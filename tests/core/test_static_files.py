"""Static files: a file deleted since the server indexed it is a 404, never a 500."""

from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from yunyi.core.static_files import StaticFilesMiddleware


def _never_reached(request: HttpRequest) -> HttpResponse:
    raise AssertionError("a static path must be answered by the static-files middleware")


def test_a_static_file_removed_after_start_is_a_404(tmp_path: Path, settings: Any) -> None:
    settings.STATICFILES_DIRS = [tmp_path]
    chunk = tmp_path / "app" / "assets" / "page-abc123.js"
    chunk.parent.mkdir(parents=True)
    chunk.write_text("export default 1\n")
    middleware = StaticFilesMiddleware(_never_reached)
    request = RequestFactory().get("/static/app/assets/page-abc123.js")

    served = middleware(request)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == b"export default 1\n"  # type: ignore[attr-defined]

    chunk.unlink()  # the front end was rebuilt: old chunks are gone
    assert middleware(request).status_code == 404
