"""Browser tests: Playwright driving Debian's Chromium against a real server.

Outside CI a missing Chromium skips these tests with the reason; under CI=true it fails them, since
a browser test that silently skips proves nothing.

The server is a real uvicorn (fresh SQLite, migrated, demo data) whose sign-up codes go to a file
(`tests.support.code_outbox`) that the tests read, as a person would read the SMS.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.code_outbox import OUTBOX_ENV, SENDER_PATH
from tests.support.live_server import REPO, LiveServer, running_server

CHROMIUM = os.environ.get("YUNYI_CHROMIUM", "/usr/bin/chromium")
SPA_INDEX = REPO / "src" / "yunyi" / "static" / "app" / "index.html"
SCREENSHOTS = REPO / "docs" / "screenshots"
FAILURES = REPO / "var" / "e2e-failures"
E2E_DIR = Path(__file__).resolve().parent
# Generous for a loaded CI machine, short enough that a broken flow fails fast.
TIMEOUT_MS = 15_000
_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is an e2e test (`-m e2e` selects, `-m "not e2e"` skips them)."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _require_chromium() -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    message = f"Chromium not found at {CHROMIUM}: run `make chromium`"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def code_outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file the live server appends sign-up codes to."""
    return tmp_path_factory.mktemp("outbox") / "codes.jsonl"


@pytest.fixture(scope="session")
def yunyi_server(code_outbox: Path) -> Iterator[LiveServer]:
    """The server under test. Not named `live_server`: pytest-django owns that name and would
    set up a test database for any test that asks for it."""
    # Checked first so a machine without Chromium does not pay for a server it cannot use.
    _require_chromium()
    if not SPA_INDEX.exists():
        pytest.fail(f"the web app is not built ({SPA_INDEX} missing): run `make frontend`")
    python_path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    extra = {
        "YUNYI_CODE_SENDER": SENDER_PATH,
        OUTBOX_ENV: str(code_outbox),
        # The server runs in a temporary directory: let it import the sender from tests/.
        "PYTHONPATH": python_path,
    }
    with running_server(extra_env=extra) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    _require_chromium()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Keep the outcome of the test call on the item so `page` can tell it failed.
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser profile per test (no cookies, no tokens), set up like most of our users'
    (Chinese, China's time zone). A failing test leaves a screenshot of where it stopped in
    var/e2e-failures/."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    yield page
    if request.node.stash.get(_FAILED, False):
        FAILURES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(FAILURES / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
