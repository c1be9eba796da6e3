"""Shared fixtures: factories for users and signed-in API clients."""
