"""Field encryption with a rotating AES-GCM key ring, and keyed blind indexes. No Django here.

Key ring spec: ``"kid:base64key,kid:base64key"``. The first key encrypts; every key decrypts, so a
deployment rotates by prepending a new key, re-encrypting stored values (``yunyi
rotate-field-keys``), then dropping the old key.

Ciphertext layout (bytes)::

    version (1) | kid length (1) | kid (ascii) | nonce (12) | AES-GCM ciphertext + tag (16)

The header (version and kid) is authenticated together with the caller's associated data, so a
value moved to another row or column, or relabelled with another key id, fails to decrypt.
AES-GCM per NIST SP 800-38D with random 96-bit nonces.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
NONCE_BYTES = 12
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_AES_KEY_SIZES = (16, 24, 32)
MIN_BLIND_INDEX_KEY_BYTES = 16


class FieldCryptoError(Exception):
    """Base of every failure in this module."""


class KeyRingError(FieldCryptoError):
    """The key ring specification is unusable (empty, malformed, duplicate ids, bad key sizes)."""


class DecryptionError(FieldCryptoError):
    """The value cannot be decrypted: unknown key id, corrupted or tampered with, wrong
    associated data."""


def _decode_key(text: str, *, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyRingError(f"{what} is not valid base64") from exc


@dataclass(frozen=True)
class KeyRing:
    """Named AES-GCM keys; ``primary_kid`` names the one that encrypts."""

    keys: dict[str, bytes]
    primary_kid: str

    @classmethod
    def from_spec(cls, spec: str) -> KeyRing:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            kid, sep, encoded = item.partition(":")
            if not sep or not _KID.match(kid):
                raise KeyRingError(
                    "each key must be written 'kid:base64key' with a short ascii kid"
                )
            if kid in keys:
                raise KeyRingError(f"key id {kid!r} appears twice")
            key = _decode_key(encoded, what=f"key {kid!r}")
            if len(key) not in _AES_KEY_SIZES:
                raise KeyRingError(f"key {kid!r} must be 16, 24 or 32 bytes, not {len(key)}")
            keys[kid] = key
            order.append(kid)
        if not order:
            raise KeyRingError("the key ring is empty")
        return cls(keys=keys, primary_kid=order[0])

    def encrypt(self, plaintext: str, *, associated_data: bytes) -> bytes:
        header = _header(self.primary_kid)
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.primary_kid]).encrypt(
            nonce, plaintext.encode("utf-8"), header + associated_data
        )
        return header + nonce + sealed

    def decrypt(self, token: bytes, *, associated_data: bytes) -> str:
        kid, header_len = _parse_header(token)
        key = self.keys.get(kid)
        if key is None:
            raise DecryptionError(f"no key with id {kid!r} in the ring")
        nonce = token[header_len : header_len + NONCE_BYTES]
        sealed = token[header_len + NONCE_BYTES :]
        try:
            plain = AESGCM(key).decrypt(nonce, sealed, token[:header_len] + associated_data)
        except InvalidTag as exc:
            raise DecryptionError("the value was altered or belongs elsewhere") from exc
        return plain.decode("utf-8")

    def needs_rotation(self, token: bytes) -> bool:
        """True when `token` was sealed under a key other than the primary one."""
        return key_id_of(token) != self.primary_kid


def _header(kid: str) -> bytes:
    raw = kid.encode("ascii")
    return bytes([FORMAT_VERSION, len(raw)]) + raw


def _parse_header(token: bytes) -> tuple[str, int]:
    if len(token) < 2 or token[0] != FORMAT_VERSION:
        raise DecryptionError("not a Yunyi field ciphertext")
    header_len = 2 + token[1]
    if len(token) < header_len + NONCE_BYTES + 16:
        raise DecryptionError("the ciphertext is truncated")
    try:
        kid = token[2:header_len].decode("ascii")
    except UnicodeDecodeError as exc:
        raise DecryptionError("the key id is corrupted") from exc
    return kid, header_len


def key_id_of(token: bytes) -> str:
    """The id of the key that sealed `token`."""
    return _parse_header(bytes(token))[0]


@dataclass(frozen=True)
class BlindIndex:
    """A keyed hash (HMAC-SHA256) of a normalised value: equal values give equal digests, so a
    unique constraint on the digest enforces uniqueness of the value without storing it in the
    clear, and without the key the digests cannot be brute-forced over a small value space."""

    key: bytes

    @classmethod
    def from_base64(cls, text: str) -> BlindIndex:
        key = _decode_key(text, what="the blind-index key")
        if len(key) < MIN_BLIND_INDEX_KEY_BYTES:
            raise KeyRingError(
                f"the blind-index key must be at least {MIN_BLIND_INDEX_KEY_BYTES} bytes"
            )
        return cls(key=key)

    def digest(self, value: str, *, purpose: str) -> str:
        """Hex digest of `value` for `purpose` (domain separation: the same number indexed for
        two purposes gives unrelated digests)."""
        message = purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()
