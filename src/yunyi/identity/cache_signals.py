"""This process's token cache forgets what its own writes change, at once and before they commit
(`token_cache`): the database triggers' notifications reach every process only after commit, and
never for a transaction that rolls back, as each test's does."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from oauth2_provider.models import get_access_token_model, get_application_model

from yunyi.accounts.models import RoleGrant
from yunyi.identity import token_cache
from yunyi.identity.models import ClientPolicy, LaunchContext


def _token_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.token_checksum:
        token_cache.forget(instance.token_checksum)


def _lookup_input_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in: nothing the lookup reads
    token_cache.forget()


def connect() -> None:
    token_model = get_access_token_model()
    post_save.connect(_token_changed, sender=token_model, dispatch_uid="token_cache_token_saved")
    post_delete.connect(_token_changed, sender=token_model, dispatch_uid="token_cache_token_gone")
    for model in (
        get_user_model(),
        RoleGrant,
        get_application_model(),
        ClientPolicy,
        LaunchContext,
    ):
        name = model._meta.label_lower
        post_save.connect(_lookup_input_changed, sender=model, dispatch_uid=f"token_cache_{name}")
        post_delete.connect(
            _lookup_input_changed, sender=model, dispatch_uid=f"token_cache_{name}_gone"
        )
