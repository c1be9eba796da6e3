"""Search SQL compiled once per shape (`yunyi.emr.store.compiled_search`): the compiled query,
run with another search's values, returns exactly what the ORM builds for that search; shapes
whose SQL is computed from the values are not compiled; LIKE wildcards stay literal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.emr.conftest import observation, patient
from yunyi.emr.search.parse import parse_search
from yunyi.emr.search.plan import SearchPlan
from yunyi.emr.store import queries
from yunyi.emr.store.compiled_search import (
    NotCompilable,
    SearchCache,
    _constants_inlined,
    compile_search,
    shape_of,
)
from yunyi.emr.store.django_store import DjangoResourceStore


def plan_of(resource_type: str, query: str) -> SearchPlan:
    pairs = [tuple(part.split("=", 1)) for part in query.split("&") if part]
    return parse_search(resource_type, pairs)  # type: ignore[arg-type]


def orm_rows(plan: SearchPlan, count: int = 50) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    return list(queries._page_query(plan, now=now, count=count, cursor=None))


def compiled_rows(cache: SearchCache, plan: SearchPlan, count: int = 50) -> Any:
    now = datetime.now(UTC)
    return cache.rows(
        plan,
        ("page", count),
        lambda p: queries._page_query(p, now=now, count=count, cursor=None),
    )


@pytest.fixture
def records(store: DjangoResourceStore) -> DjangoResourceStore:
    store.update(patient("p1", family="Wang", given="José", birth_date="1980-05-17"))
    store.update(patient("p2", family="Zhang", given="Wei", birth_date="1975", gender="male"))
    store.update(patient("p3", family="a_b%c", given="Odd", birth_date="1990-01-01"))
    store.update(patient("p4", family="axbyc", given="Near", birth_date="1990-01-01"))
    for n, (who, when, code) in enumerate(
        [
            ("p1", "2020-01-01T10:00:00Z", "8867-4"),
            ("p1", "2021-06-15", "8867-4"),
            ("p1", "2022-02-01T08:00:00Z", "85354-9"),
            ("p2", "2023-03-01", "8867-4"),
            ("p2", "2024-05-05T12:00:00Z", "8867-4"),
        ]
    ):
        store.update({**observation(patient=who, effective=when, code=code), "id": f"o{n}"})
    return store


# Pairs of searches of one shape: the first compiles the shape, the second runs it with its own
# values, and both must equal the ORM's answer.
SAME_SHAPE = [
    (
        "Observation",
        "patient=p1&code=http://loinc.org|8867-4&date=ge2020-06-01&_sort=-date",
        "patient=p2&code=http://loinc.org|8867-4&date=ge2023-06-01&_sort=-date",
    ),
    ("Observation", "code=8867-4", "code=85354-9"),
    ("Observation", "code=|8867-4", "code=|85354-9"),
    ("Observation", "date=lt2021-01-01", "date=lt2023-01-01"),
    ("Observation", "date=2021-06-15", "date=2020-01-01"),
    ("Observation", "subject=Patient/p1,Patient/p2", "subject=Patient/p2,Patient/p9"),
    ("Patient", "name=wang&birthdate=1980-05-17", "name=zhang&birthdate=1975-03-02"),
    ("Patient", "name=zhang&birthdate=1975", "name=wang&birthdate=1980"),
    ("Patient", "name=jose", "name=wei"),
    ("Patient", "family:exact=Wang", "family:exact=Zhang"),
    ("Patient", "name:contains=an", "name:contains=ng"),
    ("Patient", "_id=p1,p2", "_id=p3,p4"),
    ("Patient", "_lastUpdated=gt2000-01-01", "_lastUpdated=gt2100-01-01"),
    ("Patient", "gender:not=male", "gender:not=female"),
    # LIKE wildcards are literal characters of the value, never patterns.
    ("Patient", "name=wang", "name=a_b%"),
    ("Patient", "family:contains=ang", "family:contains=_b%"),
]


@pytest.mark.parametrize(("resource_type", "first", "second"), SAME_SHAPE)
def test_compiled_search_answers_as_the_orm(
    records: DjangoResourceStore, resource_type: str, first: str, second: str
) -> None:
    cache = SearchCache()
    for query in (first, second, first):
        plan = plan_of(resource_type, query)
        assert compiled_rows(cache, plan) == orm_rows(plan), query
    assert shape_of(plan_of(resource_type, first), 1) == shape_of(plan_of(resource_type, second), 1)


def test_wildcards_in_values_match_literally(records: DjangoResourceStore) -> None:
    cache = SearchCache()
    compiled_rows(cache, plan_of("Patient", "family=wang"))
    found = compiled_rows(cache, plan_of("Patient", "family=a_b%"))
    assert [row[2] for row in found] == ["p3"]  # not p4 ("axbyc")


def test_values_computed_into_the_sql_are_not_compiled(records: DjangoResourceStore) -> None:
    now = datetime.now(UTC)
    for resource_type, query in [
        ("Observation", "date=ap2021-06-15"),
        ("Observation", "value-quantity=72"),
        ("Observation", "subject:Patient.name=wang"),
    ]:
        plan = plan_of(resource_type, query)
        with pytest.raises(NotCompilable):
            compile_search(plan, lambda p: queries._page_query(p, now=now, count=50, cursor=None))
        assert (
            SearchCache().rows(
                plan, 1, lambda p: queries._page_query(p, now=now, count=50, cursor=None)
            )
            is None
        )


def test_counts_through_the_compiled_query(records: DjangoResourceStore) -> None:
    for query, expected in [("code=8867-4", 4), ("code=85354-9", 1), ("code=0000-0", 0)]:
        page = records.search(plan_of("Observation", f"{query}&_count=1"))
        assert page.total == expected, query


def test_different_shapes_do_not_share_sql(records: DjangoResourceStore) -> None:
    cache = SearchCache()
    plain = plan_of("Observation", "code=8867-4")
    with_system = plan_of("Observation", "code=http://loinc.org|8867-4")
    assert shape_of(plain, 1) != shape_of(with_system, 1)
    assert compiled_rows(cache, plain) == orm_rows(plain)
    assert compiled_rows(cache, with_system) == orm_rows(with_system)
    assert compiled_rows(cache, plain, count=1) == orm_rows(plain, count=1)


def test_one_criterion_pages_come_from_the_index_rows(records: DjangoResourceStore) -> None:
    """`Observation?code=x` pages by id straight from the token rows; every page and the links
    between them are those of the search built whole by the ORM."""
    now = datetime.now(UTC)
    plan = plan_of("Observation", "code=8867-4&_count=2")
    first = queries._index_page(plan, now=now, count=2, cursor=None)
    assert first is not None
    assert first == orm_rows(plan, count=2)
    pages = [[r.id for r in records.search(plan).resources]]
    page = records.search(plan)
    while page.next_cursor:
        page = records.search(plan, cursor=page.next_cursor)
        pages.append([r.id for r in page.resources])
    assert pages == [["o0", "o1"], ["o3", "o4"]]
    assert page.total == 4
    # Shapes it does not serve: a sort, two criteria, a column criterion.
    for query in ["code=8867-4&_sort=date", "code=8867-4&subject=Patient/p1", "_id=o1"]:
        assert (
            queries._index_page(plan_of("Observation", query), now=now, count=2, cursor=None)
            is None
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "index", "dropped", "values"),
    [
        ("emr_tokenindex", "emr_token_value_resource", "emr_token_value", ["code", "system"]),
        (
            "emr_referenceindex",
            "emr_ref_target_resource",
            "emr_ref_target",
            ["target_id", "target_type"],
        ),
    ],
)
def test_value_indexes_end_in_the_resource_id_and_have_no_shorter_twin(
    table: str, index: str, dropped: str, values: list[str]
) -> None:
    # A search by value pages and counts its matches from the index alone; with a twin missing
    # the resource id, PostgreSQL picked the twin at a million resources and read every row.
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    assert constraints[index]["columns"] == ["resource_type", "param", *values, "resource_id"]
    assert dropped not in constraints


@pytest.mark.postgres
def test_only_searches_whose_plan_does_not_hang_on_a_string_prefix_are_prepared(
    records: DjangoResourceStore,
) -> None:
    from django.db import connection

    cache = SearchCache(bounded_driver=queries._driven_by_bounds)
    by_code = plan_of("Observation", "patient=Patient/p1&code=8867-4")
    # Driven by the birth date, which bounds its matches: the name prefix only filters them.
    by_name_and_birth = plan_of("Patient", "name=wan&birthdate=1980-05-17")
    # Driven by the gender or a birth year, which do not: the best plan may start from the
    # prefix.
    by_name_and_gender = plan_of("Patient", "name=wan&gender=female")
    by_name_and_birth_year = plan_of("Patient", "name=zha&birthdate=1975")
    for _ in range(3):  # psycopg prepares a statement on its second run
        assert [row[2] for row in compiled_rows(cache, by_code)] == ["o0", "o1"]
        assert [row[2] for row in compiled_rows(cache, by_name_and_birth)] == ["p1"]
        assert [row[2] for row in compiled_rows(cache, by_name_and_gender)] == ["p1"]
        assert [row[2] for row in compiled_rows(cache, by_name_and_birth_year)] == ["p2"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        # The searches (the fixture's repeated writes are prepared too).
        prepared = [row[0] for row in cursor.fetchall() if row[0].startswith("SELECT")]
    assert any("emr_tokenindex" in sql and "emr_referenceindex" in sql for sql in prepared)
    with_names = [sql for sql in prepared if "emr_stringindex" in sql]
    assert len(with_names) == 1
    assert "emr_dateindex" in with_names[0] and "emr_tokenindex" not in with_names[0]
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_generic_plan",)


@pytest.mark.postgres
def test_prepared_searches_name_their_parameters_and_types_as_literals(
    records: DjangoResourceStore,
) -> None:
    # A plan made for any values still sees which parameter and type it reads.
    compiled = compile_search(
        plan_of("Patient", "name=wan&birthdate=1980-05-17"),
        lambda p: queries._page_query(p, now=datetime.now(UTC), count=50, cursor=None),
        bounded_driver=True,
    )
    assert "= 'name'" in compiled.sql and "= 'birthdate'" in compiled.sql
    assert "= 'Patient'" in compiled.sql
    assert all(slot >= 0 for slot, _transform in compiled.parameters)
    assert compiled.sql.count("%s") == len(compiled.parameters)


def test_constants_are_quoted_and_percent_signs_stay_escaped() -> None:
    sql, kept = _constants_inlined(
        "SELECT %s, %s FROM t WHERE a LIKE %s AND b = '100%%'",
        [(-1, "o'k%"), (0, 1), (-1, 7)],
    )
    assert sql == "SELECT 'o''k%%', %s FROM t WHERE a LIKE 7 AND b = '100%%'"
    assert kept == [(0, 1)]
    with pytest.raises(NotCompilable):
        _constants_inlined("SELECT %s", [])
