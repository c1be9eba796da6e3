"""factory-boy factories for accounts (used through the fixtures in tests/conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from yunyi.accounts.models import RoleGrant, User
from yunyi.accounts.resident_id import build_resident_id

DEFAULT_PASSWORD = "Correct-Horse-2026!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"测试用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.LazyFunction(lambda: default_password_hash())

    @classmethod
    def _create(cls, model_class: type[User], *args: object, **kwargs: object) -> User:
        password = kwargs.get("password")
        if password is None:
            kwargs["password"] = make_password(None)  # unusable
        elif isinstance(password, str) and not password.startswith("argon2$"):
            kwargs["password"] = (
                default_password_hash() if password == DEFAULT_PASSWORD else make_password(password)
            )
        user: User = super()._create(model_class, *args, **kwargs)
        return user


@cache
def default_password_hash() -> str:
    # Argon2 is slow on purpose; hashing the shared test password once keeps the suite quick.
    return make_password(DEFAULT_PASSWORD)


class RoleGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleGrant

    user = factory.SubFactory(UserFactory)
    role = "patient"


_serial = iter(range(1, 10**9))


def unique_resident_id(*, birth_date: date | None = None, female: bool = False) -> str:
    """A valid resident ID number, different on every call in a test run."""
    n = next(_serial)
    born = birth_date or date(1960, 1, 1) + timedelta(days=n % 15000)
    sequence = (n * 2) % 1000 if female else (n * 2 + 1) % 1000
    # The region varies with n so numbers with the same birth date and sequence still differ.
    region = f"1101{(n // 500) % 100:02d}"
    return build_resident_id(region_code=region, birth_date=born, sequence=sequence)


def adult_birth_date(years: int = 30) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))
