"""The model -> Python source, through the Jinja templates in ``templates/``.

The environment is strict (an undefined name in a template is an error, not an
empty string) and whitespace-exact (``trim_blocks``, ``lstrip_blocks``,
``keep_trailing_newline``), so what a template shows is what a file gets.
Templates see the model plus a few constants; the only text helper here is the
``doc_lines`` filter, which makes a comment safe and short enough to sit in a
docstring.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Iterable
from pathlib import Path

import jinja2

from protoreq_generator.model import Cardinality, File, Idempotency, Shape

TEMPLATES = Path(__file__).parent / "templates"
"""The package's ``templates`` symlink to the repository's top-level ``templates/``."""

LINE = 100
"""The line length generated code keeps to (the project's ruff setting)."""


ZERO_VALUES = {"str": '""', "bytes": 'b""', "int": "0", "float": "0.0", "bool": "False"}
"""The default of a plain scalar keyword argument, by its Python type."""


def _escape_char(char: str) -> str:
    if char.isascii() and char.isprintable():
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _escape(line: str) -> str:
    """Backslashes, triple quotes and non-ASCII characters, escaped for a plain docstring.

    Escaping everything outside printable ASCII keeps generated files ASCII-only,
    so no linter's "ambiguous character" rule and no encoding setting matters.
    """
    text = line.expandtabs(4).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.isascii() and text.isprintable():
        return text
    return "".join(_escape_char(char) for char in text)


def docstring_lines(lines: Iterable[str], indent: int) -> list[str]:
    """Comment lines made docstring-safe and wrapped to fit the line length at ``indent``.

    Lines that fit are kept as written (a comment's own layout wins); longer
    ones are wrapped at spaces. A final ``"`` is escaped so it cannot merge
    with the closing quotes.
    """
    width = LINE - indent - 6  # a one-line docstring fits with both sets of quotes
    result: list[str] = []
    for line in lines:
        escaped = _escape(line.rstrip())
        if len(escaped) <= width:
            result.append(escaped)
            continue
        lead = escaped[: len(escaped) - len(escaped.lstrip())]
        result.extend(
            textwrap.wrap(
                escaped,
                width=width,
                subsequent_indent=lead,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    if not result:
        result = [""]
    if result[-1].endswith('"'):
        result[-1] = result[-1][:-1] + '\\"'
    return result


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja environment, built on first use and kept (templates compile once)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
        extensions=["jinja2.ext.do"],
    )
    env.filters["doc_lines"] = docstring_lines
    env.globals.update(
        LINE=LINE,
        ZERO=ZERO_VALUES,
        Shape=Shape,
        Cardinality=Cardinality,
        Idempotency=Idempotency,
    )
    return env


def render(file: File) -> str:
    """The generated module for ``file``."""
    return environment().get_template("module.py.j2").render(file=file)
