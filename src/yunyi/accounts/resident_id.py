"""Resident identity numbers (居民身份号码) per GB 11643-1999. No Django here.

Layout of the 18 characters: 6-digit address code (GB/T 2260), 8-digit birth date YYYYMMDD,
3-digit sequence (odd for men, even for women), and a check character computed with
ISO 7064 MOD 11-2 over the first 17 digits ('X' stands for 10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
# Weights W_i = 2^(i-1) mod 11 for positions 18..2 (GB 11643-1999 §8.2).
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
# First two digits of the address code: provinces of GB/T 2260, plus 81-83 (residence permits of
# Hong Kong, Macao and Taiwan residents) and 9x (foreigners' permanent residence cards, 2023).
_REGION_PREFIXES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    }
    | {f"9{d}" for d in "0123456789"}
)


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class ResidentIdError(ValueError):
    """Base of the reasons a number is refused."""


class InvalidResidentIdError(ResidentIdError):
    """Wrong shape, unknown region or failed checksum."""


class ImplausibleBirthDateError(ResidentIdError):
    """The checksum holds but the birth date is not a real date, lies in the future, or is
    before 1900."""


@dataclass(frozen=True)
class ResidentId:
    number: str
    region_code: str
    birth_date: date
    sequence: str
    sex: Sex

    @property
    def masked(self) -> str:
        return mask_resident_id(self.number)


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidResidentIdError("expected 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_resident_id(value: str) -> str:
    return value.strip().upper()


def parse_resident_id(value: str, *, today: date) -> ResidentId:
    """Validate `value` and read its parts; raises `InvalidResidentIdError` or
    `ImplausibleBirthDateError`."""
    number = normalize_resident_id(value)
    if not _SHAPE.match(number):
        raise InvalidResidentIdError("expected 17 digits and a check digit or X")
    if number[:2] not in _REGION_PREFIXES:
        raise InvalidResidentIdError("unknown region code")
    if check_character(number[:17]) != number[17]:
        raise InvalidResidentIdError("check digit mismatch")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise ImplausibleBirthDateError("not a calendar date") from exc
    if born < EARLIEST_BIRTH_DATE or born > today:
        raise ImplausibleBirthDateError("birth date out of range")
    return ResidentId(
        number=number,
        region_code=number[:6],
        birth_date=born,
        sequence=number[14:17],
        sex=Sex.MALE if int(number[16]) % 2 else Sex.FEMALE,
    )


def mask_resident_id(number: str) -> str:
    """First four and last four characters, the rest starred: ``1101**********1234``."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def build_resident_id(*, region_code: str, birth_date: date, sequence: int) -> str:
    """A well-formed number (for demo data and tests): `sequence` 0-999, odd for a man."""
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError("region_code must be 6 digits")
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be 0-999")
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on `day`."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)
