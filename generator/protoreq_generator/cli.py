"""``protoreq``: generate typed request classes from .proto files, and check they are current.

``generate`` and ``check`` share everything up to the last step: both compile
into a fresh temporary folder, then ``generate`` moves what changed into the
output folder (all files or none: :mod:`protoreq_generator.output`) and
``check`` compares and lists what differs. So ``check`` passes exactly when
``generate --prune`` would change nothing.
"""

from __future__ import annotations

import filecmp
import inspect
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from protoreq_generator import output
from protoreq_generator.commands import (
    SERVER_COMMANDS_HELP,
    from_server_options,
    server_commands,
)
from protoreq_generator.from_server import compile_from_server
from protoreq_generator.options import OPTION_HELP, OptionsError, parse_options
from protoreq_generator.plugin import version
from protoreq_generator.protoc import Invocation, ProtocError, ProtocFailedError, compile_into
from protoreq_generator.stubs import STUB_HELP, STUB_KINDS, StubKind

_STUBS_TEXT = "; ".join(f"{kind}: {text}" for kind, text in STUB_HELP.items())
_OPTIONS_TEXT = "; ".join(
    f"{name}={text}" for name, text in sorted(OPTION_HELP.items()) if name != "stubs"
)
"""The plugin options the CLI passes on (``stubs=`` is the CLI's own --stubs)."""


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
            help="Also write empty __init__.py files so OUT's folders are regular packages "
            "(never in a folder an installed package or namespace owns, such as google/ or grpc/).",
        ),
        click.option(
            "--stubs",
            type=click.Choice(STUB_KINDS),
            default="mypy",
            show_default=True,
            help=f"Who writes the typed x_pb2.pyi stubs ({_STUBS_TEXT}).",
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
    stubs: StubKind,
    opts: tuple[str, ...],
) -> Invocation:
    if not paths:
        raise click.UsageError("Missing argument 'PATHS...'.")
    parameter = ",".join(opts)
    if any(opt.strip().startswith("stubs") for opt in ",".join(opts).split(",")):
        raise click.BadParameter("use --stubs, not --opt stubs=", param_hint="--opt")
    try:
        parse_options(parameter)
    except OptionsError as error:
        raise click.BadParameter(str(error), param_hint="--opt") from None
    return Invocation(
        includes=includes,
        sources=paths,
        parameter=parameter,
        package_init=package_init,
        stubs=stubs,
    )


def _fail(message: str) -> NoReturn:
    click.echo(f"protoreq: {message}", err=True)
    sys.exit(1)


def _compile(invocation: Invocation, scratch: Path, out: Path) -> None:
    """Compile into ``scratch``; on failure exit with protoc's code (its message is printed).

    Warnings (output that would shadow an installed module) go to stderr, one line each.
    """
    try:
        for warning in compile_into(invocation, scratch, destination=out):
            click.echo(f"protoreq: warning: {warning}", err=True)
    except ProtocFailedError as failed:
        sys.exit(failed.code)
    except ProtocError as error:
        _fail(str(error))


def _compile_from_server(
    target: str,
    *,
    services: tuple[str, ...],
    package_init: bool,
    opts: tuple[str, ...],
    scratch: Path,
) -> None:
    """``generate --from-server``: see :mod:`protoreq_generator.from_server`."""
    _invocation((Path(),), (), package_init, "mypy", opts)  # checks --opt
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

    For every a/b/x.proto, writes protoc's a/b/x_pb2.py, typed stubs
    a/b/x_pb2.pyi (mypy-protobuf's, or protoc's with --stubs=pyi) and protoreq's
    a/b/x_protoreq.py (one class per RPC and a typed client facade per service)
    under the output folder, using the protoc bundled with grpcio-tools. A .proto
    whose messages an installed _pb2 module defines already (google/rpc/*.proto,
    grpc/health/v1/health.proto) gets no _pb2 of its own: protoreq's module
    imports the installed one.

    \b
    Examples:
      protoreq generate -I protos protos/ -o src/gen --package-init
      protoreq check    -I protos protos/ -o src/gen --package-init   # in CI
      protoreq generate -I protos protos/ -o src/gen --prune          # drop old files
    """


@cli.command()
@_shared_arguments
@click.option(
    "--prune",
    is_flag=True,
    help="Also delete generated files (*_pb2.py, *_pb2.pyi, *_protoreq.py written by protoc, "
    "mypy-protobuf or protoreq, recognized by their header) that no .proto produces any more.",
)
@from_server_options
def generate(
    *,
    paths: tuple[Path, ...],
    includes: tuple[Path, ...],
    out: Path,
    package_init: bool,
    stubs: StubKind,
    opts: tuple[str, ...],
    prune: bool,
    from_server: str | None = None,
    services: tuple[str, ...] = (),
) -> None:
    """Compile PATHS (.proto files, or folders searched for them) into OUT.

    Everything is compiled first, then moved into OUT in one step: if OUT cannot
    take the files, nothing is written. Only files whose content changes are
    rewritten; existing __init__.py files are never touched. Files that no
    .proto produces any more stay unless --prune is given (`protoreq check`
    lists them as extra).
    """
    if from_server is None:
        invocation = _invocation(paths, includes, package_init, stubs, opts)
    elif paths:
        raise click.UsageError("--from-server takes no PATHS: the server's files are generated")
    elif stubs != "mypy":
        raise click.UsageError("--from-server writes mypy-protobuf stubs; leave --stubs out")
    try:
        with output.staging_folder(out) as staging:
            if from_server is None:
                _compile(invocation, staging, out)
            else:
                _compile_from_server(
                    from_server,
                    services=services,
                    package_init=package_init,
                    opts=opts,
                    scratch=staging,
                )
            changes = output.plan(staging, out, prune=prune)
            output.install(staging, out, changes)
    except output.OutputError as error:
        _fail(str(error))
    pruned = f", {len(changes.prune)} pruned" if prune else ""
    click.echo(
        f"protoreq: {len(changes.write)} written, {len(changes.unchanged)} unchanged"
        f"{pruned} in {out}"
    )


@cli.command()
@_shared_arguments
def check(
    *,
    paths: tuple[Path, ...],
    includes: tuple[Path, ...],
    out: Path,
    package_init: bool,
    stubs: StubKind,
    opts: tuple[str, ...],
) -> None:
    """Exit 1, listing the files, if OUT differs from what `generate --prune` would leave.

    Takes the same arguments as generate. Reports stale files (content differs),
    missing files and extra files (generated files under OUT, matching
    *_pb2.py, *_pb2.pyi or *_protoreq.py, that no .proto produces; `generate
    --prune` deletes them). A file with such a name that no compiler wrote is
    listed as "extra, not generated" and left for you to remove.
    """
    invocation = _invocation(paths, includes, package_init, stubs, opts)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="protoreq-check-") as scratch_name:
        scratch = Path(scratch_name)
        _compile(invocation, scratch, out)
        expected = set(output.output_files(scratch))
        for relative in sorted(expected):
            target = out / relative
            if not target.is_file():
                problems.append(f"missing: {target}")
            elif relative.name != "__init__.py" and not filecmp.cmp(
                scratch / relative, target, False
            ):
                problems.append(f"stale: {target}")
    by_hand = 0
    for relative in output.extra_files(out, expected):
        if output.is_generated(out / relative):
            problems.append(f"extra: {out / relative}")
        else:
            by_hand += 1
            problems.append(f"extra, not generated (remove it yourself): {out / relative}")
    if problems:
        for problem in problems:
            click.echo(problem)
        advice = "run `protoreq generate --prune` with the same arguments"
        if by_hand:
            advice += f" (it leaves the {by_hand} file(s) not generated)"
        click.echo(
            f"protoreq check: {len(problems)} file(s) out of date in {out}; {advice}", err=True
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
