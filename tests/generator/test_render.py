"""Rendering details that golden files would only show indirectly."""

from __future__ import annotations

import ast
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner

from protoreq_generator import render as render_module
from protoreq_generator.cli import cli
from protoreq_generator.descriptors import GenerationError, build_files
from protoreq_generator.options import GeneratorOptions
from protoreq_generator.plugin import generate
from protoreq_generator.render import LINE, docstring_lines, environment, render
from tests.generator.factories import (
    make_file,
    make_message,
    make_method,
    make_request,
    make_service,
)
from tests.generator.support import PROTOS_DIR


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


NASTY_COMMENTS = [
    'Ends with triple quotes """',
    "Ends with a backslash \\",
    '"Starts with a quote',
    'Four quotes """" and two ""',
    'Escapes stay text: \\n \\t \\x41 \\u0041 \\N{DASH} \\" \\\\',
    "A tab:\there, a NUL \x00, a bell \x07, a line separator \u2028, emoji \U0001f600",
    '"',
    '""',
    "\\",
]


@pytest.mark.parametrize("comment", NASTY_COMMENTS)
@pytest.mark.parametrize("lines", [1, 3])
def test_a_docstring_evaluates_to_the_comment(comment: str, lines: int) -> None:
    """Single- and multi-line docstrings, laid out as the templates lay them out.

    Tabs come out expanded, as Python 3.13's compiler expands them in docstrings.
    """
    text = [comment] * lines
    escaped = docstring_lines(text, 4)
    source = '"""' + "\n".join(escaped) + '"""'
    assert ast.literal_eval(source) == "\n".join(text).expandtabs()
    assert source.isascii()


def test_a_module_that_does_not_compile_is_refused_naming_the_files() -> None:
    """The net under the escaping rules: a name no rule foresaw (protoc would refuse it)."""
    file = make_file(
        "a/b/svc.proto",
        package="pkg",
        messages=[make_message("Empty")],
        services=[make_service("Svc", make_method('Do"', ".pkg.Empty", ".pkg.Empty"))],
    )
    response = generate(make_request(file))
    assert response.error.startswith(
        "a/b/svc.proto: the generated a/b/svc_protoreq.py is not valid Python (line "
    )
    assert "protoreq bug" in response.error
    assert not response.file
    (built,) = build_files(make_request(file), GeneratorOptions())
    with pytest.raises(GenerationError, match="not valid Python"):
        render(built)


def test_the_cli_fails_when_a_module_does_not_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`protoreq generate` exits non-zero with the error and writes no protoreq module."""
    real = environment()

    class Broken:
        def get_template(self, name: str) -> jinja2.Template:
            template = real.get_template(name)
            return real.from_string("{{ source }}\ndef broken(:\n", {"source": template})

    monkeypatch.setattr(render_module, "environment", Broken)
    result = CliRunner().invoke(
        cli,
        [
            "generate",
            "-I",
            str(PROTOS_DIR.parent),
            str(PROTOS_DIR / "user.proto"),
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code != 0
    assert "protos/user.proto: the generated protos/user_protoreq.py is not valid Python" in (
        result.output
    )
    assert not list(tmp_path.rglob("*_protoreq.py"))
