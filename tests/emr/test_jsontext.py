"""The record's fast JSON (`yunyi.emr.jsontext`) says what the standard library would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from yunyi.emr import jsontext

SAMPLES: list[Any] = [
    {"resourceType": "Patient", "name": [{"family": "张", "given": ["三"]}], "active": True},
    {"valueQuantity": {"value": 72.5, "unit": "/min"}, "n": 0, "neg": -1.25, "none": None},
    {"text": 'line\nbreak "quoted" \\ tab\t \u2028 emoji 🩺 nul \x00'},
    [1, 2.0, 1e300, "x", {"nested": []}],
]


@pytest.mark.parametrize("value", SAMPLES)
def test_encoding_matches_the_standard_librarys_compact_utf8(value: Any) -> None:
    assert jsontext.dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("value", SAMPLES)
def test_decoding_gives_what_the_standard_library_gives(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert jsontext.loads(text) == json.loads(text)


def test_exponents_may_be_spelled_differently_but_mean_the_same_number() -> None:
    value = {"small": -1.25e-7, "large": 6.02e23}
    assert json.loads(jsontext.dumps(value)) == value


def test_integers_beyond_64_bits_fall_back_to_the_standard_library() -> None:
    huge = 2**70
    assert jsontext.loads(f'{{"n": {huge}}}') == {"n": huge}
    assert jsontext.dumps({"n": huge}) == f'{{"n":{huge}}}'


def test_invalid_json_is_still_refused() -> None:
    with pytest.raises(json.JSONDecodeError):
        jsontext.loads("{not json")
