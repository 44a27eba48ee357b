"""One run of the protoc bundled with grpcio-tools, and every output file from it.

protoc runs in this process (``grpc_tools.protoc.main``), parses the files
once and writes the ``_pb2.py`` modules itself. It also writes a descriptor
set (with imports and comments), which becomes the ``CodeGeneratorRequest``
protoc would have sent a plugin; mypy-protobuf's ``protoc-gen-mypy`` gets it
in its own process (:mod:`protoreq_generator.stubs`) while protoreq's
generator runs in this one, so the slowest step overlaps ours instead of
preceding it. Errors in the .proto files are printed by protoc itself,
exactly as it reports them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc

from protoreq_generator import naming
from protoreq_generator.layout import Environment, shadow_warnings
from protoreq_generator.plugin import generate
from protoreq_generator.stubs import (
    StubKind,
    StubsError,
    StubsProcess,
    failing_file,
    mypy_plugin,
    mypy_stubs,
)


class ProtocError(Exception):
    """A failure to report in one line (protoc's own errors are already printed)."""


@dataclass(frozen=True, slots=True)
class Invocation:
    """What to compile: include folders, .proto files (or folders of them) and plugin options."""

    includes: tuple[Path, ...]
    sources: tuple[Path, ...]
    parameter: str = ""
    package_init: bool = False
    stubs: StubKind = "mypy"
    """Who writes the ``_pb2.pyi`` stubs: mypy-protobuf, protoc's ``--pyi_out``, or nobody."""


def well_known_include() -> Path:
    """grpcio-tools' copy of ``google/protobuf/*.proto`` (timestamp, any, ...)."""
    return Path(str(resources.files("grpc_tools") / "_proto"))


def expand_sources(sources: Sequence[Path]) -> list[Path]:
    """Folders become the ``.proto`` files under them (sorted); files pass through."""
    expanded: list[Path] = []
    for source in sources:
        if source.is_dir():
            expanded.extend(sorted(source.rglob("*.proto")))
        else:
            expanded.append(source)
    return expanded


def proto_name(source: Path, includes: Sequence[Path]) -> str:
    """The name protoc gives ``source``: its path below the first include folder holding it."""
    if source.exists():
        absolute = Path(os.path.abspath(source))
        for include in includes:
            try:
                return absolute.relative_to(os.path.abspath(include)).as_posix()
            except ValueError:
                continue
    return source.as_posix()


def _run_protoc(arguments: list[str]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    code: int = protoc.main(["protoc", *arguments])
    return code


class ProtocFailedError(Exception):
    """protoc exited non-zero; it has printed its errors already."""

    def __init__(self, code: int) -> None:
        super().__init__(f"protoc failed with exit code {code}")
        self.code = code


def descriptor_request(invocation: Invocation) -> plugin_pb2.CodeGeneratorRequest:
    """Run protoc once; the ``CodeGeneratorRequest`` it would send a plugin for these sources.

    protoc only parses: the descriptor set it writes (with imports and comments)
    becomes the request. Raises :class:`ProtocFailedError` when protoc fails.
    """
    includes = invocation.includes or (Path(),)
    sources = expand_sources(invocation.sources)
    if not sources:
        raise ProtocError("no .proto files to compile")
    with tempfile.TemporaryDirectory(prefix="protoreq-") as scratch:
        descriptor_set = Path(scratch) / "descriptors.pb"
        code = _run_protoc(
            [
                *(f"--proto_path={include}" for include in includes),
                f"--proto_path={well_known_include()}",
                f"--descriptor_set_out={descriptor_set}",
                "--include_imports",
                "--include_source_info",
                *(str(source) for source in sources),
            ]
        )
        if code != 0:
            raise ProtocFailedError(code)
        files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    names = [proto_name(source, includes) for source in sources]
    known = {file.name for file in files}
    unmapped = [name for name in names if name not in known]
    if unmapped:
        raise ProtocError(f"could not tell which compiled file is {', '.join(unmapped)}")
    return plugin_pb2.CodeGeneratorRequest(
        file_to_generate=names, parameter=invocation.parameter, proto_file=files
    )


def write_python_modules(invocation: Invocation, out: Path) -> None:
    """protoc's ``_pb2.py`` modules for the sources, under ``out``.

    A second protoc run, parsing again: ``--descriptor_set_in`` would spare the
    parse but make protoc write every field's ``json_name`` into the modules, so
    they would differ from what ``protoc --python_out`` writes. :func:`compile_into`
    runs this while the stub plugin works, so the parse costs no waiting.
    """
    includes = invocation.includes or (Path(),)
    out.mkdir(parents=True, exist_ok=True)
    code = _run_protoc(
        [
            *(f"--proto_path={include}" for include in includes),
            f"--proto_path={well_known_include()}",
            f"--python_out={out}",
            *([f"--pyi_out={out}"] if invocation.stubs == "pyi" else []),
            *(str(source) for source in expand_sources(invocation.sources)),
        ]
    )
    if code != 0:
        raise ProtocFailedError(code)


def compile_into(
    invocation: Invocation, out: Path, *, destination: Path | None = None
) -> list[str]:
    """Write ``_pb2.py``, ``_pb2.pyi`` and ``_protoreq.py`` (and ``__init__.py``) under ``out``.

    The slowest step, mypy-protobuf's stubs, decides how long this takes, so it
    starts first and everything else happens beside it: protoc parses the files
    (while the stub plugin's interpreter starts), the stub plugin gets the
    request, then protoc writes ``_pb2.py`` and protoreq's generator runs, both
    usually done before the stubs are. With ``stubs="pyi"`` protoc writes the
    stubs itself in the same run as ``_pb2.py``; with ``"none"`` nobody does.

    Files whose messages an installed ``_pb2`` module already defines get no
    ``_pb2`` of their own, and protoreq's modules import the installed one
    (:mod:`protoreq_generator.layout`). ``destination`` is where the files will
    finally go (``out`` is a staging folder), left out when looking at what is
    installed. Returns warnings, one line each: output that would shadow an
    installed module or cannot be imported.
    """
    environment = Environment(exclude=[out, *([destination] if destination else [])])
    with contextlib.ExitStack() as stack:
        stubs: StubsProcess | None = None
        if invocation.stubs == "mypy":
            try:
                mypy_plugin()  # fail before protoc runs, as protoc would before writing anything
            except StubsError as error:
                raise ProtocError(str(error)) from None
            stubs = stack.enter_context(mypy_stubs())
        request = descriptor_request(invocation)
        if stubs is not None:
            stubs.send(request)
        provided = _use_installed_messages(request, environment)
        if invocation.stubs != "mypy":  # annotations to match protoc's stubs (or none)
            request.parameter = ",".join(
                filter(None, (request.parameter, f"stubs={invocation.stubs}"))
            )
        write_python_modules(invocation, out)
        response = generate(request)
        stub_files: Sequence[plugin_pb2.CodeGeneratorResponse.File] = ()
        if stubs is not None:
            try:
                stub_files = stubs.response().file
            except StubsError as error:
                raise ProtocError(_stub_failure(request, error)) from None
    if response.error:
        raise ProtocError(response.error)
    skipped = {naming.pb2_module(name).replace(".", "/") for name in provided}
    for suffix in (".py", ".pyi"):
        for stem in skipped:
            (out / (stem + suffix)).unlink(missing_ok=True)
    for generated in (*stub_files, *response.file):
        if generated.name.removesuffix(".pyi") in skipped:
            continue
        target = out / generated.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(generated.content.encode("utf-8"))
    if invocation.package_init:
        write_package_inits(out, environment)
    modules = [
        ".".join(path.relative_to(out).with_suffix("").parts)
        for path in out.rglob("*.py")
        if path.name != "__init__.py"
    ]
    return shadow_warnings(modules, destination or out, environment)


def _use_installed_messages(
    request: plugin_pb2.CodeGeneratorRequest, environment: Environment
) -> set[str]:
    """Point protoreq's imports at installed ``_pb2`` modules; the requested files they cover.

    Adds a ``pb2_module`` option for each file (requested or imported) whose
    messages an installed module defines under another name; a requested file
    so covered gets no ``_pb2`` written, since two modules defining the same
    messages cannot both be imported. Not for a file the user mapped with their
    own ``--opt pb2_module=``. Not where another requested file imports
    it and the installed copy was compiled from another .proto name: that
    file's ``_pb2`` (protoc's) needs this one under its own name.
    """
    requested = set(request.file_to_generate)
    # protoc's _pb2 of an importing file refers to its imports by .proto name: those it
    # writes for us can only use an installed copy registered under the same name.
    imported_by_output = {
        dependency
        for file in request.proto_file
        if file.name in requested
        for dependency in file.dependency
    }
    provided: set[str] = set()
    mapping: list[str] = []
    chosen = {
        option.partition("=")[2].partition(":")[0]
        for option in request.parameter.split(",")
        if option.strip().startswith("pb2_module=")
    }
    for file in request.proto_file:
        if file.name.startswith("google/protobuf/"):
            continue  # the well-known types: protobuf's own modules, under their own names
        if file.name in chosen:
            continue  # the user's --opt pb2_module= says where its messages are
        provider = environment.provider(file)
        if provider is None:
            continue
        if provider.proto_name != file.name and file.name in imported_by_output:
            continue
        if file.name in requested:
            provided.add(file.name)
        if provider.module != naming.pb2_module(file.name):
            mapping.append(f"pb2_module={file.name}:{provider.module}")
    if mapping:
        request.parameter = ",".join(filter(None, (request.parameter, *mapping)))
    return provided


def _stub_failure(request: plugin_pb2.CodeGeneratorRequest, error: StubsError) -> str:
    """One line naming the file mypy-protobuf failed on, and the way around it."""
    culprit = failing_file(request)
    where = f" on {culprit}" if culprit else ""
    return f"mypy-protobuf failed{where} ({error}); --stubs=pyi writes protoc's own stubs instead"


def write_package_inits(out: Path, environment: Environment | None = None) -> None:
    """An empty ``__init__.py`` in every folder below ``out`` that holds Python files.

    Not in a folder whose name an installed package or namespace has (``google``,
    ``grpc``) or that falls under an installed regular package: there an
    ``__init__.py`` would hide the installed one (``import google.protobuf``
    would fail).
    """
    environment = environment or Environment(exclude=[out])
    packages: set[Path] = set()
    for module in out.rglob("*.py"):
        packages.update(parent for parent in module.parents if out in parent.parents)
    for package in sorted(packages):
        init = package / "__init__.py"
        name = ".".join(package.relative_to(out).parts)
        if not init.exists() and environment.may_hold_init(name):
            init.write_bytes(b"")
