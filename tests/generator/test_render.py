"""Rendering details that golden files would only show indirectly."""

from __future__ import annotations

import jinja2
import pytest

from protoreq_generator.render import LINE, docstring_lines, environment


def test_docstring_lines_escape_quotes_backslashes_and_non_ascii() -> None:
    assert docstring_lines(['a """b""" \\d \u2013 \xe9 \U0001f600'], 4) == [
        'a \\"\\"\\"b\\"\\"\\" \\\\d \\u2013 \\xe9 \\U0001f600'
    ]


def test_docstring_lines_end_without_a_bare_quote() -> None:
    assert docstring_lines(['says "hi"'], 4) == ['says "hi\\"']
    assert docstring_lines([], 4) == [""]


def test_docstring_lines_wrap_long_lines_only() -> None:
    short = "short line"
    long = " ".join(["word"] * 40)
    lines = docstring_lines([short, long], 8)
    assert lines[0] == short
    assert all(8 + len(line) + 6 <= LINE for line in lines)
    assert " ".join(lines[1:]) == long


def test_environment_is_strict_and_cached() -> None:
    env = environment()
    assert env is environment()
    with pytest.raises(jinja2.UndefinedError, match="missing"):
        env.from_string("{{ missing }}").render()
