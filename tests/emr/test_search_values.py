"""Date ranges and string normalisation: the values search compares (pure, no database)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yunyi.emr.search.dates import (
    MAX_DATETIME,
    DateFormatError,
    date_range,
    format_instant,
    period_range,
)
from yunyi.emr.search.text import MAX_KEY, normalize_text


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.2 date: implicit precision")
def test_partial_dates_expand_to_their_whole_period() -> None:
    assert date_range("2020") == (
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2021, 1, 1, tzinfo=UTC),
    )
    assert date_range("2020-02") == (
        datetime(2020, 2, 1, tzinfo=UTC),
        datetime(2020, 3, 1, tzinfo=UTC),
    )
    assert date_range("2020-12") == (
        datetime(2020, 12, 1, tzinfo=UTC),
        datetime(2021, 1, 1, tzinfo=UTC),
    )
    assert date_range("2020-02-28") == (
        datetime(2020, 2, 28, tzinfo=UTC),
        datetime(2020, 2, 29, tzinfo=UTC),
    )
    assert date_range("2020-02-28T10:15") == (
        datetime(2020, 2, 28, 10, 15, tzinfo=UTC),
        datetime(2020, 2, 28, 10, 16, tzinfo=UTC),
    )


def test_instants_are_converted_to_utc_with_their_precision() -> None:
    low, high = date_range("2021-06-01T10:00:00+08:00")
    assert low == datetime(2021, 6, 1, 2, 0, 0, tzinfo=UTC)
    assert high == low + timedelta(seconds=1)
    low, high = date_range("2021-06-01T10:00:00.25Z")
    assert (low, high) == (
        datetime(2021, 6, 1, 10, 0, 0, 250000, tzinfo=UTC),
        datetime(2021, 6, 1, 10, 0, 0, 260000, tzinfo=UTC),
    )


def test_last_day_of_time_does_not_overflow() -> None:
    assert date_range("9999") == (datetime(9999, 1, 1, tzinfo=UTC), MAX_DATETIME)
    assert date_range("9999-12-31")[1] == MAX_DATETIME


@pytest.mark.parametrize(
    "text",
    [
        "",
        "20",
        "2020-13",
        "2020-02-30",
        "2020-01-01T25:00",
        "2020/01/01",
        "0000",
        "2020-01-01T10:00+15:00",
        "now",
    ],
)
def test_malformed_dates_are_refused(text: str) -> None:
    with pytest.raises(DateFormatError):
        date_range(text)


def test_period_with_open_end_reaches_the_end_of_time() -> None:
    assert period_range({"start": "2020-01"}) == (datetime(2020, 1, 1, tzinfo=UTC), MAX_DATETIME)
    assert period_range({"start": "2020-01-01", "end": "2020-01-03"}) == (
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2020, 1, 4, tzinfo=UTC),
    )
    assert period_range({}) is None


def test_instants_are_formatted_in_utc_with_milliseconds() -> None:
    assert (
        format_instant(datetime(2024, 5, 1, 8, 30, 0, 123456, tzinfo=UTC))
        == "2024-05-01T08:30:00.123Z"
    )


def _day(moment: datetime) -> str:
    # strftime's %Y does not zero-pad years before 1000.
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9998, 12, 30)))
def test_every_precision_range_contains_the_moment_and_nests_in_the_coarser_one(
    moment: datetime,
) -> None:
    texts = [
        f"{moment.year:04d}",
        f"{moment.year:04d}-{moment.month:02d}",
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}",
        f"{_day(moment)}T{moment:%H:%M}",
        f"{_day(moment)}T{moment:%H:%M:%S}Z",
        f"{_day(moment)}T{moment:%H:%M:%S.%f}Z",
    ]
    exact = moment.replace(tzinfo=UTC)
    ranges = [date_range(text) for text in texts]
    for low, high in ranges:
        assert low <= exact < high
    for (outer_low, outer_high), (inner_low, inner_high) in itertools.pairwise(ranges):
        assert outer_low <= inner_low < inner_high <= outer_high


@given(
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 1, 1)),
    st.integers(-14 * 60, 14 * 60),
)
def test_zone_offsets_name_the_same_instant(moment: datetime, offset_minutes: int) -> None:
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = f"{_day(moment)}T{moment:%H:%M:%S}{sign}{hours:02d}:{minutes:02d}"
    low, high = date_range(text)
    assert low == moment.replace(microsecond=0, tzinfo=UTC) - timedelta(minutes=offset_minutes)
    assert high - low == timedelta(seconds=1)


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.12 string: case and accent insensitive")
def test_strings_fold_case_accents_and_width() -> None:
    assert normalize_text("José  García") == "jose garcia"
    assert normalize_text("ＭÜＬＬＥＲ") == "muller"
    assert normalize_text("STRASSE") == normalize_text("Straße")
    assert normalize_text("王小明") == "王小明"


@given(st.text(max_size=300))
def test_normalisation_is_idempotent_and_bounded(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once or len(once) == MAX_KEY
    assert len(once) <= MAX_KEY
    assert once == once.strip()


@given(
    st.text(alphabet=st.characters(codec="ascii", categories=["Lu", "Ll"]), min_size=1, max_size=40)
)
def test_ascii_letters_normalise_to_lower_case(text: str) -> None:
    assert normalize_text(text) == text.lower()
    assert normalize_text(text.upper()) == normalize_text(text.lower())
