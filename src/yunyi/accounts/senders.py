"""Delivery of one-time codes by SMS or e-mail, chosen by the ``ACCOUNTS_CODE_SENDER`` setting:
``console`` (prints the message: demo and development), ``memory`` (keeps it in `outbox`: tests),
or the dotted path of a class implementing `CodeSender` (an SMS gateway, an e-mail service)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


class CodeSender(Protocol):
    def send(self, *, channel: str, address: str, code: str) -> None:
        """Deliver `code` to `address` over `channel` ("phone" or "email")."""


@dataclass(frozen=True)
class SentCode:
    channel: str
    address: str
    code: str


def mask_address(*, channel: str, address: str) -> str:
    """Enough of an address to recognise it: ``138****5678``, ``z***@example.com``."""
    if channel == "phone":
        return address[:3] + "****" + address[-4:]
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


class ConsoleCodeSender:
    """Prints the message. The code appears on stdout: that is how the demo signs people up."""

    def send(self, *, channel: str, address: str, code: str) -> None:
        sys.stdout.write(
            f"Yunyi code for {mask_address(channel=channel, address=address)}: {code}\n"
        )
        sys.stdout.flush()


outbox: list[SentCode] = []


class MemoryCodeSender:
    """Keeps every message in `outbox` (like Django's locmem e-mail backend), for tests."""

    def send(self, *, channel: str, address: str, code: str) -> None:
        outbox.append(SentCode(channel=channel, address=address, code=code))


_BUILTIN: dict[str, type[CodeSender]] = {"console": ConsoleCodeSender, "memory": MemoryCodeSender}


def code_sender() -> CodeSender:
    name = settings.ACCOUNTS_CODE_SENDER
    if not name:
        raise ImproperlyConfigured("ACCOUNTS_CODE_SENDER (YUNYI_CODE_SENDER) is not set")
    sender_class = _BUILTIN.get(name) or import_string(name)
    sender: CodeSender = sender_class()
    return sender
