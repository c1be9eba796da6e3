"""The Django side of field encryption: the key ring and blind index loaded once from settings
(``FIELD_KEYS``, ``BLIND_INDEX_KEY``), and a registry of encrypted columns so key rotation can
find every stored ciphertext.

Apps that store an encrypted column register it from their ``AppConfig.ready`` with
`register_encrypted_column`, naming how the associated data of a row is built (it binds each
ciphertext to its row and column).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import models

from yunyi.privacy.fieldcrypto import BlindIndex, KeyRing


@cache
def key_ring() -> KeyRing:
    return KeyRing.from_spec(settings.FIELD_KEYS)


@cache
def blind_index_key() -> BlindIndex:
    return BlindIndex.from_base64(settings.BLIND_INDEX_KEY)


def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    # Tests swap keys with override_settings; the cached ring must follow.
    if setting in ("FIELD_KEYS", "BLIND_INDEX_KEY"):
        key_ring.cache_clear()
        blind_index_key.cache_clear()


setting_changed.connect(_forget_keys, dispatch_uid="yunyi.privacy.forget_keys")


def encrypt_field(plaintext: str, *, associated_data: bytes) -> bytes:
    return key_ring().encrypt(plaintext, associated_data=associated_data)


def decrypt_field(token: bytes, *, associated_data: bytes) -> str:
    return key_ring().decrypt(bytes(token), associated_data=associated_data)


def blind_index(value: str, *, purpose: str) -> str:
    return blind_index_key().digest(value, purpose=purpose)


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: str
    associated_data: Callable[[Any], bytes]

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"


_columns: dict[str, EncryptedColumn] = {}


def register_encrypted_column(
    *, model: type[models.Model], field: str, associated_data: Callable[[Any], bytes]
) -> None:
    column = EncryptedColumn(model=model, field=field, associated_data=associated_data)
    _columns[column.label] = column


def encrypted_columns() -> list[EncryptedColumn]:
    return [(_columns[label]) for label in sorted(_columns)]
