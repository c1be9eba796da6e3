"""Test mode is set before Django loads (pytest-django imports settings after this file)."""

import os

os.environ.setdefault("YUNYI_ENV", "test")
