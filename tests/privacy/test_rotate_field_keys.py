import base64
import os
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from yunyi.accounts.models import RealNameIdentity
from yunyi.accounts.selectors import resident_id_of
from yunyi.privacy.fieldcrypto import key_id_of

pytestmark = pytest.mark.django_db


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _kids() -> list[str]:
    return sorted(
        key_id_of(bytes(i.resident_id_ciphertext)) for i in RealNameIdentity.objects.all()
    )


def test_rotation_re_encrypts_every_resident_id_under_the_new_primary_key(
    make_user: Any, settings: Any
) -> None:
    old = _key()
    settings.FIELD_KEYS = f"old:{old}"
    users = [make_user(real_name=True) for _ in range(3)]
    numbers = [resident_id_of(user=u) for u in users]
    assert _kids() == ["old", "old", "old"]

    settings.FIELD_KEYS = f"new:{_key()},old:{old}"
    out = StringIO()
    call_command("rotate-field-keys", "--batch-size", "2", stdout=out)
    assert out.getvalue().splitlines() == [
        "accounts.RealNameIdentity.resident_id_ciphertext: 2/3 rows checked, 2 re-encrypted",
        "accounts.RealNameIdentity.resident_id_ciphertext: 3/3 rows checked, 3 re-encrypted",
        "practitioners.Licence.number_ciphertext: 0/0 rows checked, 0 re-encrypted",
        "Done: 3 value(s) re-encrypted under key 'new'.",
    ]
    assert _kids() == ["new", "new", "new"]

    settings.FIELD_KEYS = settings.FIELD_KEYS.split(",")[0]  # the old key is retired
    assert [resident_id_of(user=u) for u in users] == numbers


def test_rotation_is_safe_to_run_twice(make_user: Any, settings: Any) -> None:
    old = _key()
    settings.FIELD_KEYS = f"old:{old}"
    make_user(real_name=True)
    settings.FIELD_KEYS = f"new:{_key()},old:{old}"
    call_command("rotate-field-keys", stdout=StringIO())
    before = bytes(RealNameIdentity.objects.get().resident_id_ciphertext)
    out = StringIO()
    call_command("rotate-field-keys", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Done: 0 value(s) re-encrypted under key 'new'."
    assert bytes(RealNameIdentity.objects.get().resident_id_ciphertext) == before


def test_rotation_stops_on_a_value_whose_key_is_missing(make_user: Any, settings: Any) -> None:
    settings.FIELD_KEYS = f"lost:{_key()}"
    make_user(real_name=True)
    settings.FIELD_KEYS = f"new:{_key()}"
    with pytest.raises(CommandError, match="rotation stopped: no key with id 'lost'"):
        call_command("rotate-field-keys", stdout=StringIO())
    assert _kids() == ["lost"]


def test_rotation_refuses_a_tampered_value_and_changes_nothing(
    make_user: Any, settings: Any
) -> None:
    old = _key()
    settings.FIELD_KEYS = f"old:{old}"
    make_user(real_name=True)
    identity = RealNameIdentity.objects.get()
    tampered = bytearray(bytes(identity.resident_id_ciphertext))
    tampered[-1] ^= 1
    RealNameIdentity.objects.filter(pk=identity.pk).update(resident_id_ciphertext=bytes(tampered))
    settings.FIELD_KEYS = f"new:{_key()},old:{old}"
    with pytest.raises(CommandError, match="altered or belongs elsewhere"):
        call_command("rotate-field-keys", stdout=StringIO())
    assert bytes(RealNameIdentity.objects.get().resident_id_ciphertext) == bytes(tampered)


def test_a_ciphertext_copied_to_another_user_does_not_decrypt(make_user: Any) -> None:
    from yunyi.privacy.fieldcrypto import DecryptionError

    first, second = make_user(real_name=True), make_user(real_name=True)
    stolen = RealNameIdentity.objects.get(user=first).resident_id_ciphertext
    RealNameIdentity.objects.filter(user=second).update(resident_id_ciphertext=stolen)
    with pytest.raises(DecryptionError):
        resident_id_of(user=second)


def test_rotation_with_nothing_stored_reports_zero(settings: Any) -> None:
    out = StringIO()
    call_command("rotate-field-keys", stdout=out)
    assert out.getvalue().splitlines() == [
        "accounts.RealNameIdentity.resident_id_ciphertext: 0/0 rows checked, 0 re-encrypted",
        "practitioners.Licence.number_ciphertext: 0/0 rows checked, 0 re-encrypted",
        f"Done: 0 value(s) re-encrypted under key '{settings.FIELD_KEYS.split(':')[0]}'.",
    ]
