from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yunyi.accounts.resident_id import (
    ImplausibleBirthDateError,
    InvalidResidentIdError,
    Sex,
    age_on,
    build_resident_id,
    check_character,
    mask_resident_id,
    parse_resident_id,
)

TODAY = date(2026, 6, 1)
regions = st.sampled_from(["110101", "310104", "440305", "510107", "650102", "820000"])
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)


@pytest.mark.spec("GB 11643-1999", "8.2")
def test_standard_example_parses() -> None:
    parsed = parse_resident_id("11010519491231002X", today=TODAY)
    assert parsed.region_code == "110105"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sequence == "002"
    assert parsed.sex == Sex.FEMALE
    assert parsed.masked == "1101**********002X"


@pytest.mark.spec("GB 11643-1999", "8.2")
def test_lower_case_x_and_surrounding_spaces_are_accepted() -> None:
    assert parse_resident_id(" 11010519491231002x ", today=TODAY).number == "11010519491231002X"


@pytest.mark.spec("GB 11643-1999", "8.2")
@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("34052419800101001", "X"), ("11010519491231003", "8")],
)
def test_check_character_known_values(first17: str, check: str) -> None:
    assert check_character(first17) == check
    assert parse_resident_id(first17 + check, today=TODAY).number == first17 + check


@pytest.mark.spec("GB 11643-1999", "8.2")
@given(region=regions, born=birth_dates, sequence=sequences)
def test_generated_numbers_pass_and_read_back(region: str, born: date, sequence: int) -> None:
    number = build_resident_id(region_code=region, birth_date=born, sequence=sequence)
    parsed = parse_resident_id(number, today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date == born
    assert parsed.sex == (Sex.MALE if sequence % 2 else Sex.FEMALE)
    assert parsed.masked == number[:4] + "**********" + number[-4:]


@pytest.mark.spec("GB 11643-1999", "8.2")
@given(
    region=regions,
    born=birth_dates,
    sequence=sequences,
    position=st.integers(min_value=0, max_value=17),
    shift=st.integers(min_value=1, max_value=9),
)
def test_changing_any_one_digit_fails_the_check(
    region: str, born: date, sequence: int, position: int, shift: int
) -> None:
    number = build_resident_id(region_code=region, birth_date=born, sequence=sequence)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    changed_char = alphabet[(alphabet.index(number[position]) + shift) % len(alphabet)]
    changed = number[:position] + changed_char + number[position + 1 :]
    # MOD 11-2 detects every single-character substitution; a change in the date may instead
    # make the date impossible, which is refused as well.
    with pytest.raises((InvalidResidentIdError, ImplausibleBirthDateError)):
        parse_resident_id(changed, today=TODAY)


@pytest.mark.spec("GB 11643-1999", "8.2")
@given(region=regions, born=birth_dates, sequence=sequences, position=st.integers(0, 15))
def test_swapping_adjacent_different_digits_fails_the_check(
    region: str, born: date, sequence: int, position: int
) -> None:
    number = build_resident_id(region_code=region, birth_date=born, sequence=sequence)
    if number[position] == number[position + 1]:
        return
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    with pytest.raises((InvalidResidentIdError, ImplausibleBirthDateError)):
        parse_resident_id(swapped, today=TODAY)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1101051949123100",
        "1101051949123100201",
        "11010519491231002Y",
        "X1010519491231002X",
        "11010519491231002１",
        "110105194912310021",
        "001051949123100 2X",
        "00010519491231002X",
    ],
)
def test_malformed_or_bad_checksum_numbers_are_invalid(value: str) -> None:
    with pytest.raises(InvalidResidentIdError):
        parse_resident_id(value, today=TODAY)


@pytest.mark.parametrize(
    ("region", "yyyymmdd", "reason"),
    [
        ("110101", "20230229", "not a calendar date"),
        ("110101", "19991301", "not a calendar date"),
        ("110101", "18991231", "before 1900"),
        ("110101", "20260602", "in the future"),
    ],
)
def test_implausible_birth_dates_are_refused(region: str, yyyymmdd: str, reason: str) -> None:
    first17 = f"{region}{yyyymmdd}123"
    with pytest.raises(ImplausibleBirthDateError):
        parse_resident_id(first17 + check_character(first17), today=TODAY)


def test_birth_today_is_plausible() -> None:
    number = build_resident_id(region_code="110101", birth_date=TODAY, sequence=1)
    assert parse_resident_id(number, today=TODAY).birth_date == TODAY


def test_mask_shows_first_four_and_last_four() -> None:
    assert mask_resident_id("110101199001011237") == "1101**********1237"


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2008, 6, 1), date(2026, 6, 1), 18),
        (date(2008, 6, 2), date(2026, 6, 1), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
    ],
)
def test_age_counts_completed_years(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age
