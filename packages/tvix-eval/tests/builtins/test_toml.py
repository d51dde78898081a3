"""fromTOML, including timestamps as newer Nix represents them."""

from __future__ import annotations

import datetime

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.builtins.toml import format_timestamp

from .conftest import Run, batch


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.UTC), "1979-05-27T07:32:00Z"),
        (
            datetime.datetime(
                1979,
                5,
                27,
                0,
                32,
                0,
                999999,
                tzinfo=datetime.timezone(-datetime.timedelta(hours=7)),
            ),
            "1979-05-27T00:32:00.999999-07:00",
        ),
        (datetime.datetime(1979, 5, 27, 7, 32, 0, 500000), "1979-05-27T07:32:00.500"),
        (datetime.date(1979, 5, 27), "1979-05-27"),
        (datetime.time(7, 32), "07:32:00"),
    ],
)
def test_format_timestamp(value: datetime.date | datetime.time, text: str) -> None:
    assert format_timestamp(value) == text


def test_timestamps_with_feature() -> None:
    ev = Evaluator()
    ev.state.extra["experimental_features"] = {"parse-toml-timestamps"}
    v = ev.evaluate('builtins.fromTOML "a = 1979-05-27T07:32:00Z"', strict=True)
    assert ev.print(v) == '{ a = { _type = "timestamp"; value = "1979-05-27T07:32:00Z"; }; }'


CASES = [
    "builtins.fromTOML \"a = 1.5\\nb = inf\\nc = nan\\nd = 0x10\\ne = 1e3\\n[t]\\nx = [1, 'a']\"",
    'builtins.fromTOML "[[arr]]\\ny=1\\n[[arr]]\\ny=2\\n[a.b]\\nc = true"',
    'builtins.fromTOML "a = 9223372036854775808"',
    'builtins.fromTOML "x = \\"\\\\u0000a\\""',
    "builtins.fromTOML \"a.b = 1\\na.c = '''x\\ny'''\"",
    'builtins.fromTOML ""',
]


@pytest.mark.nix
def test_toml_matches_nix(tvix: Run, nix: Run) -> None:
    src = batch(CASES)
    assert tvix(src) == nix(src)


@pytest.mark.nix
@pytest.mark.parametrize(
    "src", ['builtins.fromTOML "a = 1979-05-27T07:32:00Z"', "builtins.fromTOML 1"]
)
def test_toml_errors_match_nix(tvix: Run, nix: Run, src: str) -> None:
    assert tvix(src) == nix(src)


@pytest.mark.parametrize("src", ['builtins.fromTOML "a = "', 'builtins.fromTOML "a = 1\\na = 2"'])
def test_toml_syntax_errors(tvix: Run, src: str) -> None:
    assert tvix(src).startswith("error: while parsing a TOML string: ")
