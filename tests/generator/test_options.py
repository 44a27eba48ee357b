"""Plugin options: strict parsing, clear errors."""

from __future__ import annotations

import pytest

from protoreq_generator.options import GeneratorOptions, OptionsError, parse_options


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        ("", GeneratorOptions(facade=True)),
        ("facade=false", GeneratorOptions(facade=False)),
        (" facade = off , ", GeneratorOptions(facade=False)),
        ("facade", GeneratorOptions(facade=True)),
        ("facade=no,facade=yes", GeneratorOptions(facade=True)),
    ],
)
def test_parse(parameter: str, expected: GeneratorOptions) -> None:
    assert parse_options(parameter) == expected


def test_unknown_option_names_the_known_ones() -> None:
    with pytest.raises(OptionsError, match=r"unknown option 'facad'.*known options: facade="):
        parse_options("facad=false")


def test_bad_value() -> None:
    with pytest.raises(OptionsError, match="takes true or false"):
        parse_options("facade=maybe")
