import base64
import os

import pytest

from yunyi.privacy.fieldcrypto import BlindIndex, DecryptionError, KeyRing, KeyRingError, key_id_of

AAD = b"accounts.RealNameIdentity.resident_id:user-1"


def _key(size: int = 32) -> str:
    return base64.b64encode(os.urandom(size)).decode()


def test_encrypt_then_decrypt_returns_the_plaintext() -> None:
    ring = KeyRing.from_spec(f"k1:{_key()}")
    token = ring.encrypt("11010519491231002X", associated_data=AAD)
    assert ring.decrypt(token, associated_data=AAD) == "11010519491231002X"
    assert b"11010519491231002X" not in token


def test_encrypting_twice_gives_different_ciphertexts() -> None:
    ring = KeyRing.from_spec(f"k1:{_key()}")
    assert ring.encrypt("same", associated_data=AAD) != ring.encrypt("same", associated_data=AAD)


def test_ciphertext_carries_the_primary_key_id() -> None:
    ring = KeyRing.from_spec(f"new:{_key()},old:{_key()}")
    assert ring.primary_kid == "new"
    assert key_id_of(ring.encrypt("x", associated_data=AAD)) == "new"


def test_rotation_old_ciphertexts_still_decrypt_and_are_flagged_for_rotation() -> None:
    old_key = _key()
    before = KeyRing.from_spec(f"k1:{old_key}")
    token = before.encrypt("secret", associated_data=AAD)
    after = KeyRing.from_spec(f"k2:{_key()},k1:{old_key}")
    assert after.decrypt(token, associated_data=AAD) == "secret"
    assert after.needs_rotation(token) is True
    resealed = after.encrypt("secret", associated_data=AAD)
    assert after.needs_rotation(resealed) is False
    assert key_id_of(resealed) == "k2"


def test_decrypt_refuses_a_key_id_no_longer_in_the_ring() -> None:
    token = KeyRing.from_spec(f"k1:{_key()}").encrypt("secret", associated_data=AAD)
    with pytest.raises(DecryptionError, match="no key with id 'k1'"):
        KeyRing.from_spec(f"k2:{_key()}").decrypt(token, associated_data=AAD)


@pytest.mark.parametrize("position", [-1, -17, -20, 8])
def test_decrypt_refuses_a_modified_ciphertext(position: int) -> None:
    ring = KeyRing.from_spec(f"k1:{_key()}")
    token = bytearray(ring.encrypt("secret", associated_data=AAD))
    token[position] ^= 0x01
    with pytest.raises(DecryptionError):
        ring.decrypt(bytes(token), associated_data=AAD)


def test_decrypt_refuses_a_relabelled_key_id() -> None:
    key = _key()
    ring = KeyRing.from_spec(f"k1:{key},k2:{key}")
    token = ring.encrypt("secret", associated_data=AAD)
    relabelled = token.replace(b"k1", b"k2", 1)
    with pytest.raises(DecryptionError):
        ring.decrypt(relabelled, associated_data=AAD)


def test_decrypt_refuses_wrong_associated_data() -> None:
    ring = KeyRing.from_spec(f"k1:{_key()}")
    token = ring.encrypt("secret", associated_data=AAD)
    with pytest.raises(DecryptionError, match="altered or belongs elsewhere"):
        ring.decrypt(token, associated_data=b"accounts.RealNameIdentity.resident_id:user-2")


@pytest.mark.parametrize("token", [b"", b"\x02\x02k1" + bytes(40), b"\x01\x02k1" + bytes(5)])
def test_decrypt_refuses_garbage(token: bytes) -> None:
    with pytest.raises(DecryptionError):
        KeyRing.from_spec(f"k1:{_key()}").decrypt(token, associated_data=AAD)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        (" , ", "empty"),
        ("nokid", "kid:base64key"),
        ("bad kid:AAAA", "kid:base64key"),
        ("k1:not-base64!!", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "16, 24 or 32 bytes"),
        ("k1:{k},k1:{k}", "appears twice"),
    ],
)
def test_key_ring_spec_errors_are_reported(spec: str, message: str) -> None:
    with pytest.raises(KeyRingError, match=message):
        KeyRing.from_spec(spec.format(k=_key()))


def test_blind_index_is_deterministic_keyed_and_purpose_separated() -> None:
    key = _key()
    index = BlindIndex.from_base64(key)
    digest = index.digest("11010519491231002X", purpose="accounts.resident_id")
    assert len(digest) == 64
    assert digest == BlindIndex.from_base64(key).digest(
        "11010519491231002X", purpose="accounts.resident_id"
    )
    assert digest != BlindIndex.from_base64(_key()).digest(
        "11010519491231002X", purpose="accounts.resident_id"
    )
    assert digest != index.digest("11010519491231002X", purpose="other")
    assert digest != index.digest("110105194912310021", purpose="accounts.resident_id")


def test_blind_index_refuses_a_short_key() -> None:
    with pytest.raises(KeyRingError, match="at least 16 bytes"):
        BlindIndex.from_base64(base64.b64encode(b"tiny").decode())
