"""``protoreq``: generate typed request classes from .proto files, and check they are current.

``generate`` and ``check`` share everything up to the last step: both compile
into a fresh temporary folder, then ``generate`` copies what changed into the
output folder and ``check`` compares and lists what differs. So ``check``
passes exactly when ``generate`` would change nothing.
"""

from __future__ import annotations

import filecmp
import inspect
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from protoreq_generator.commands import (
    SERVER_COMMANDS_HELP,
    from_server_options,
    server_commands,
)
from protoreq_generator.from_server import compile_from_server
from protoreq_generator.options import OPTION_HELP, OptionsError, parse_options
from protoreq_generator.plugin import version
from protoreq_generator.protoc import Invocation, ProtocError, ProtocFailedError, compile_into

GENERATED_PATTERNS = ("*_pb2.py", "*_pb2.pyi", "*_protoreq.py")
"""Files ``check`` counts as generated output when it looks for extra files."""

_OPTIONS_TEXT = "; ".join(f"{name}={text}" for name, text in sorted(OPTION_HELP.items()))


def _shared_arguments(command: Callable[..., Any]) -> Callable[..., Any]:
    """The arguments ``generate`` and ``check`` both take, declared once."""
    decorators = [
        click.argument(
            "paths", nargs=-1, required=False, type=click.Path(path_type=Path), metavar="PATHS..."
        ),
        click.option(
            "-I",
            "--proto-path",
            "includes",
            multiple=True,
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            metavar="DIR",
            help="Folder imports are resolved against (repeatable; default: the current folder).",
        ),
        click.option(
            "-o",
            "--out",
            required=True,
            type=click.Path(file_okay=False, path_type=Path),
            metavar="OUT",
            help="Output root: a/b/x.proto gives OUT/a/b/x_pb2.py, x_pb2.pyi, x_protoreq.py.",
        ),
        click.option(
            "--package-init",
            is_flag=True,
            help="Also write empty __init__.py files so OUT's folders are regular packages.",
        ),
        click.option(
            "--opt",
            "opts",
            multiple=True,
            metavar="KEY=VALUE",
            help=f"Generator option, as --protoreq_opt takes them (repeatable): {_OPTIONS_TEXT}.",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _invocation(
    paths: tuple[Path, ...],
    includes: tuple[Path, ...],
    package_init: bool,
    opts: tuple[str, ...],
) -> Invocation:
    if not paths:
        raise click.UsageError("Missing argument 'PATHS...'.")
    parameter = ",".join(opts)
    try:
        parse_options(parameter)
    except OptionsError as error:
        raise click.BadParameter(str(error), param_hint="--opt") from None
    return Invocation(
        includes=includes, sources=paths, parameter=parameter, package_init=package_init
    )


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(root)


def _compile(invocation: Invocation, scratch: Path) -> None:
    """Compile into ``scratch``; on failure exit with protoc's code (its message is printed)."""
    try:
        compile_into(invocation, scratch)
    except ProtocFailedError as failed:
        sys.exit(failed.code)
    except ProtocError as error:
        click.echo(f"protoreq: {error}", err=True)
        sys.exit(1)


def _compile_from_server(
    target: str,
    *,
    services: tuple[str, ...],
    paths: tuple[Path, ...],
    package_init: bool,
    opts: tuple[str, ...],
    scratch: Path,
) -> None:
    """``generate --from-server``: see :mod:`protoreq_generator.from_server`."""
    if paths:
        raise click.UsageError("--from-server takes no PATHS: the server's files are generated")
    _invocation((Path(),), (), package_init, opts)  # checks --opt
    try:
        compile_from_server(target, services, ",".join(opts), package_init, scratch)
    except ProtocFailedError as failed:
        sys.exit(failed.code)
    except ProtocError as error:
        click.echo(f"protoreq: {error}", err=True)
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    version(), "-V", "--version", prog_name="protoreq", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Generate typed gRPC request classes from .proto files.

    For every a/b/x.proto, writes protoc's a/b/x_pb2.py, mypy-protobuf's typed
    stubs a/b/x_pb2.pyi and protoreq's a/b/x_protoreq.py (one class per RPC and
    a typed client facade per service) under the output folder, using the protoc
    bundled with grpcio-tools.

    \b
    Examples:
      protoreq generate -I protos protos/ -o src/gen --package-init
      protoreq check    -I protos protos/ -o src/gen --package-init   # in CI
    """


@cli.command()
@_shared_arguments
@from_server_options
def generate(
    paths: tuple[Path, ...],
    includes: tuple[Path, ...],
    out: Path,
    package_init: bool,
    opts: tuple[str, ...],
    *,
    from_server: str | None = None,
    services: tuple[str, ...] = (),
) -> None:
    """Compile PATHS (.proto files, or folders searched for them) into OUT.

    Only files whose content changes are rewritten; existing __init__.py files are
    never touched. Files that no .proto produces any more are left in place:
    `protoreq check` lists them as extra.
    """
    if from_server is None:
        invocation = _invocation(paths, includes, package_init, opts)
    with tempfile.TemporaryDirectory(prefix="protoreq-out-") as scratch_name:
        scratch = Path(scratch_name)
        if from_server is None:
            _compile(invocation, scratch)
        else:
            _compile_from_server(
                from_server,
                services=services,
                paths=paths,
                package_init=package_init,
                opts=opts,
                scratch=scratch,
            )
        written = unchanged = 0
        for relative in _files(scratch):
            target = out / relative
            if target.exists() and (
                relative.name == "__init__.py" or filecmp.cmp(scratch / relative, target, False)
            ):
                unchanged += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(scratch / relative, target)
            written += 1
    click.echo(f"protoreq: {written} written, {unchanged} unchanged in {out}")


@cli.command()
@_shared_arguments
def check(
    paths: tuple[Path, ...],
    includes: tuple[Path, ...],
    out: Path,
    package_init: bool,
    opts: tuple[str, ...],
) -> None:
    """Exit 1, listing the files, if OUT differs from what `generate` would write.

    Takes the same arguments as generate. Reports stale files (content differs),
    missing files and extra files (generated-looking files under OUT, matching
    *_pb2.py, *_pb2.pyi or *_protoreq.py, that no .proto produces). OUT is
    assumed to hold only this command's output.
    """
    invocation = _invocation(paths, includes, package_init, opts)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="protoreq-check-") as scratch_name:
        scratch = Path(scratch_name)
        _compile(invocation, scratch)
        expected = set(_files(scratch))
        for relative in sorted(expected):
            target = out / relative
            if not target.is_file():
                problems.append(f"missing: {target}")
            elif relative.name != "__init__.py" and not filecmp.cmp(
                scratch / relative, target, False
            ):
                problems.append(f"stale: {target}")
    if out.is_dir():
        for relative in _files(out):
            if relative not in expected and any(relative.match(p) for p in GENERATED_PATTERNS):
                problems.append(f"extra: {out / relative}")
    if problems:
        for problem in problems:
            click.echo(problem)
        click.echo(
            f"protoreq check: {len(problems)} file(s) out of date in {out}; "
            "run `protoreq generate` with the same arguments",
            err=True,
        )
        sys.exit(1)
    click.echo(f"protoreq check: {out} is up to date")


# The commands that talk to servers live in their own modules (protoreq_generator.commands).
for _command in server_commands():
    cli.add_command(_command)
cli.help = f"{inspect.cleandoc(cli.help or '')}\n\n{SERVER_COMMANDS_HELP}"


def main() -> None:
    """Console script entry point."""
    cli(prog_name="protoreq")
