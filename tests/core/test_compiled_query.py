"""`CompiledQuery`: the ORM's SQL and value conversion, compiled once, run with new values."""

import datetime
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from yunyi.accounts.models import RoleGrant, User
from yunyi.core.compiled_query import CompiledQuery

pytestmark = pytest.mark.django_db

ROLES_OF = CompiledQuery(
    lambda user_id: User.objects.filter(pk=user_id).values_list(
        "username", "date_joined", "role_grants__role"
    ),
    parameters=[User._meta.get_field("id")],
)


def test_rows_carry_python_values_for_each_call(django_assert_num_queries: object) -> None:
    joined = datetime.datetime(2025, 3, 1, 8, 30, tzinfo=datetime.UTC)
    first = User.objects.create(username="first", date_joined=joined)
    second = User.objects.create(username="second", date_joined=joined)
    RoleGrant.objects.create(user=first, role="patient")
    RoleGrant.objects.create(user=first, role="guardian")
    with django_assert_num_queries(1):  # type: ignore[operator]
        rows = ROLES_OF.rows(first.pk)
    assert sorted(rows, key=lambda row: row["role_grants__role"]) == [
        {"username": "first", "date_joined": joined, "role_grants__role": "guardian"},
        {"username": "first", "date_joined": joined, "role_grants__role": "patient"},
    ]
    assert ROLES_OF.rows(second.pk) == [
        {"username": "second", "date_joined": joined, "role_grants__role": None}
    ]
    assert ROLES_OF.rows(uuid.uuid4()) == []


def test_a_query_whose_parameters_are_not_the_given_values_is_refused() -> None:
    # The filter adds a parameter of its own (the username), which rows() would not fill in.
    query = CompiledQuery(
        lambda since: User.objects.filter(date_joined__gt=since, username="x").values_list("id"),
        parameters=[User._meta.get_field("date_joined")],
    )
    with pytest.raises(ImproperlyConfigured):
        query.rows(timezone.now())


def test_a_query_of_model_instances_is_refused() -> None:
    query = CompiledQuery(
        lambda user_id: User.objects.filter(pk=user_id), parameters=[User._meta.get_field("id")]
    )
    with pytest.raises(ImproperlyConfigured):
        query.rows(uuid.uuid4())


def test_a_native_cursor_binds_postgresqls_own_placeholders_and_only_there() -> None:
    from django.db import connection

    from yunyi.core.compiled_query import prepared_cursor

    if connection.vendor != "postgresql":
        with pytest.raises(ValueError, match="PostgreSQL"):
            prepared_cursor(connection, native=True)
        return
    quote = "O'Brien %s $1 中文"
    with prepared_cursor(connection, native=True) as cursor:
        cursor.execute("SELECT $1::text, $2::int + 1", [quote, 41])
        assert cursor.fetchone() == (quote, 42)
