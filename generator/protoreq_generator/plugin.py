"""``protoc-gen-protoreq``: a ``CodeGeneratorRequest`` on stdin, a ``CodeGeneratorResponse`` out.

:func:`generate` is the whole generator as a function (the ``protoreq`` CLI
calls it in process); :func:`main` adds the process around it: stdin/stdout,
``--version``, the request dump for replaying real inputs
(``PROTOREQ_DUMP_REQUEST=path``, or ``=folder/`` for one file per request;
replay with ``protoc-gen-protoreq < folder/request-....pb``), and
a one-line error instead of a traceback for input that is not a request
(including no input at all).

Problems with the input (an unknown option, a name that cannot be imported)
go back to protoc in ``CodeGeneratorResponse.error``; protoc prints them
prefixed with ``--protoreq_out:`` and fails.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sys
from importlib import metadata
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from google.protobuf.message import DecodeError

from protoreq_generator.descriptors import GenerationError, build_files
from protoreq_generator.options import OptionsError, parse_options
from protoreq_generator.render import render

PROG = "protoc-gen-protoreq"
DUMP_ENV = "PROTOREQ_DUMP_REQUEST"

Response = plugin_pb2.CodeGeneratorResponse


def version() -> str:
    """The installed distribution's version, read without importing the runtime package."""
    try:
        return metadata.version("protoreq")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    """Run the generator on ``request``; errors in the input become ``response.error``."""
    response = Response(
        supported_features=Response.FEATURE_PROTO3_OPTIONAL | Response.FEATURE_SUPPORTS_EDITIONS,
        minimum_edition=descriptor_pb2.EDITION_2023,
        maximum_edition=descriptor_pb2.EDITION_2024,
    )
    # The model and the output are tens of thousands of small objects and no cycles:
    # the cyclic collector would only rescan them (a third of the time for 5,000 RPCs).
    collecting = gc.isenabled()
    gc.disable()
    try:
        options = parse_options(request.parameter)
        files = build_files(request, options)
        for file in files:
            response.file.add(name=file.output_name, content=render(file))
    except (OptionsError, GenerationError) as error:
        response.error = str(error)
        del response.file[:]
    finally:
        if collecting:
            gc.enable()
    return response


def _dump(data: bytes, target: str) -> None:
    """Save the raw request in ``target``, or in a new file there if it names a folder."""
    path = Path(target)
    if target.endswith(("/", os.sep)) or path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path = path / f"request-{hashlib.sha256(data).hexdigest()[:16]}.pb"
    path.write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    """The console script: protoc runs it with the request on stdin."""
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        sys.stdout.write(f"{PROG} {version()}\n")
        return 0
    if args or sys.stdin.isatty():
        sys.stderr.write(
            f"{PROG}: a protoc plugin; run it through protoc, e.g. "
            "`python -m grpc_tools.protoc -I. --protoreq_out=OUT x.proto` "
            "(options: --version)\n"
        )
        return 2
    data = sys.stdin.buffer.read()
    if not data:
        # protoc always sends something (at least its version); nothing at all means the
        # plugin was run by hand or fed from a file that is empty.
        sys.stderr.write(
            f"{PROG}: stdin is empty, expected a CodeGeneratorRequest; "
            "this program is meant to be run by protoc\n"
        )
        return 1
    dump_to = os.environ.get(DUMP_ENV)
    if dump_to:
        _dump(data, dump_to)
    try:
        request = plugin_pb2.CodeGeneratorRequest.FromString(data)
    except DecodeError as error:
        sys.stderr.write(
            f"{PROG}: stdin is not a CodeGeneratorRequest ({error}); "
            "this program is meant to be run by protoc\n"
        )
        return 1
    sys.stdout.buffer.write(generate(request).SerializeToString())
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
