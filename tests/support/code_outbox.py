"""A sign-up code sender that appends each message to a file, so a test in another process (a
browser test driving a live server) can read the code the server sent.

Select it with ``YUNYI_CODE_SENDER=tests.support.code_outbox.FileCodeSender`` and name the file in
``YUNYI_TEST_CODE_OUTBOX``. Each message is one JSON line: ``{"channel", "address", "code"}``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

OUTBOX_ENV = "YUNYI_TEST_CODE_OUTBOX"
SENDER_PATH = "tests.support.code_outbox.FileCodeSender"


class FileCodeSender:
    """Implements `yunyi.accounts.senders.CodeSender` by appending to the outbox file."""

    def send(self, *, channel: str, address: str, code: str) -> None:
        path = os.environ.get(OUTBOX_ENV)
        if not path:
            raise ImproperlyConfigured(f"{OUTBOX_ENV} must name the outbox file")
        line = json.dumps({"channel": channel, "address": address, "code": code})
        # One write of a short line in append mode: readers never see half a message.
        with open(path, "a", encoding="utf-8") as outbox:
            outbox.write(line + "\n")


def latest_code(outbox: Path, *, address: str, timeout: float = 10.0) -> str:
    """The newest code sent to `address`, waiting up to `timeout` seconds for it to arrive."""
    deadline = time.monotonic() + timeout
    while True:
        if outbox.exists():
            codes = [
                message["code"]
                for message in map(json.loads, outbox.read_text(encoding="utf-8").splitlines())
                if message["address"] == address
            ]
            if codes:
                return str(codes[-1])
        if time.monotonic() >= deadline:
            raise AssertionError(f"no code was sent to {address} within {timeout}s")
        time.sleep(0.1)
