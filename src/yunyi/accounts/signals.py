"""Signals accounts sends for apps that build on it without accounts importing them (the record
app keeps a Patient resource for each verified person). Sent only after the transaction that
made the change commits, so a receiver never sees a change that was rolled back."""

from __future__ import annotations

from django.dispatch import Signal

# A person's real-name identity was verified (their own verification, or a guardian adding a
# ward). Keyword argument: `user`. Receivers must be idempotent.
real_name_verified = Signal()
