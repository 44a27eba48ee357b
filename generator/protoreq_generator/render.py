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
from typing import TYPE_CHECKING

from protoreq_generator.index import GenerationError
from protoreq_generator.model import Cardinality, File, Idempotency, Shape

if TYPE_CHECKING:
    import jinja2

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

    The docstring, evaluated, gives back the comment's text. Escaping everything
    outside printable ASCII keeps generated files ASCII-only, so no linter's
    "ambiguous character" rule and no encoding setting matters. Tabs are
    expanded here, as Python 3.13's compiler would expand them in a docstring:
    the docstring reads the same on every Python.
    """
    text = line.expandtabs().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.isascii() and text.isprintable():
        return text
    return "".join(_escape_char(char) for char in text)


def docstring_lines(lines: Iterable[str], indent: int) -> list[str]:
    """Comment lines made docstring-safe and wrapped to fit the line length at ``indent``.

    Lines that fit are kept as written (a comment's own layout wins); longer
    ones are wrapped at spaces. A ``"`` that would touch the opening or the
    closing quotes is escaped too: a final one would merge with the closing
    quotes, and a leading one would make formatters pad the docstring with a space.
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
    if result[0].startswith('"'):
        result[0] = "\\" + result[0]
    last = result[-1]
    if last.endswith('"') and not _escaped_at_end(last):
        result[-1] = last[:-1] + '\\"'
    return result


def _escaped_at_end(text: str) -> bool:
    """Whether the last character of escaped ``text`` follows an escaping backslash."""
    body = text[:-1]
    return (len(body) - len(body.rstrip("\\"))) % 2 == 1


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja environment, built on first use and kept (templates compile once).

    Jinja is imported here, not at the top: ``protoreq --help`` and the commands that send
    calls never render, so they do not load it.
    """
    import jinja2  # noqa: PLC0415

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
    """The generated module for ``file``, proven to compile.

    Compiling is the net under every escaping rule: a module that is not valid
    Python (a comment or a name no rule foresaw) fails the run, naming the
    .proto, instead of being written (and then passing ``protoreq check``).
    Compiling takes longer than rendering (about 3 MB of source a second), a
    price worth paying for never writing a broken module.
    """
    source = environment().get_template("module.py.j2").render(file=file)
    check_compiles(source, file)
    return source


def check_compiles(source: str, file: File) -> None:
    """Raise :class:`GenerationError` unless ``source`` (generated for ``file``) compiles."""
    try:
        compile(source, file.output_name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:  # ValueError: a NUL byte, before Python 3.12
        where = f"line {error.lineno}: {error.msg}" if isinstance(error, SyntaxError) else error
        raise GenerationError(
            f"{file.proto_name}: the generated {file.output_name} is not valid Python "
            f"({where}); nothing was written. This is a protoreq bug: please report it "
            "with the .proto file"
        ) from None
