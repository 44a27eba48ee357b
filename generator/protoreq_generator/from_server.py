"""``protoreq generate --from-server``: the same output as from .proto files, from reflection.

The server's file descriptors become the ``CodeGeneratorRequest`` that protoc
would have built from the sources, so protoreq's generator and mypy-protobuf
run exactly as in :func:`protoreq_generator.protoc.compile_into`; protoc writes
the ``_pb2.py`` modules from the same descriptors (``--descriptor_set_in``).
Descriptors from reflection carry no comments (servers send no source info), so
docstrings that come from .proto comments are missing; everything else is
byte-identical to generating from the same .proto files.

Which files: those defining the chosen services (``--service``, or every
service the server lists but reflection and health, whose modules ship with
grpcio-reflection and protoreq) and the files they import, except
``google/protobuf/*`` (protobuf ships those).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

from protoreq_generator.connection import Connection
from protoreq_generator.plugin import generate
from protoreq_generator.protoc import (
    ProtocError,
    ProtocFailedError,
    _run_protoc,
    write_package_inits,
)
from protoreq_generator.reflection import ReflectionClient, ReflectionError
from protoreq_generator.stubs import StubsError, mypy_plugin, mypy_stubs

SKIPPED_SERVICE_PREFIXES: Final = ("grpc.reflection.", "grpc.health.v1.")
"""Services left out unless named with --service: their modules ship with grpc and protoreq."""

_SHIPPED_FILES: Final = "google/protobuf/"


def server_files(
    target: str, services: Sequence[str]
) -> tuple[list[descriptor_pb2.FileDescriptorProto], list[str]]:
    """The descriptors (dependencies first) and the names of the files to generate."""
    connection = Connection.for_target(target)
    with connection.client(retry=None) as client:
        reflection = ReflectionClient(client)
        chosen = list(services) or [
            name for name in reflection.services() if not name.startswith(SKIPPED_SERVICE_PREFIXES)
        ]
        if not chosen:
            raise ProtocError(f"{target} offers no services to generate")
        files = reflection.files(chosen)
    names = [file.name for file in files if not file.name.startswith(_SHIPPED_FILES)]
    return files, names


def default_json_name(name: str) -> str:
    """The JSON name protoc derives from a field name (``last_seq`` -> ``lastSeq``)."""
    parts: list[str] = []
    upper = False
    for character in name:
        if character == "_":
            upper = True
        elif upper:
            parts.append(character.upper())
            upper = False
        else:
            parts.append(character)
    return "".join(parts)


def _drop_derived_json_names(messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
    for message in messages:
        for field in (*message.field, *message.extension):
            if field.json_name == default_json_name(field.name):
                field.ClearField("json_name")
        _drop_derived_json_names(message.nested_type)


def as_parsed_from_source(
    files: Iterable[descriptor_pb2.FileDescriptorProto],
) -> list[descriptor_pb2.FileDescriptorProto]:
    """Copies without the ``json_name`` values protoc would derive itself.

    A server built from a descriptor set (``protoc --descriptor_set_out``) sends
    every field's ``json_name``; protoc from source records only explicit ones,
    and ``--python_out`` embeds what it has, so the modules would differ.
    """
    copies = []
    for file in files:
        copy = descriptor_pb2.FileDescriptorProto()
        copy.CopyFrom(file)
        _drop_derived_json_names(copy.message_type)
        for extension in copy.extension:
            if extension.json_name == default_json_name(extension.name):
                extension.ClearField("json_name")
        copies.append(copy)
    return copies


def compile_from_server(
    target: str,
    services: Sequence[str],
    parameter: str,
    package_init: bool,
    out: Path,
) -> None:
    """Write ``_pb2.py``, ``_pb2.pyi`` and ``_protoreq.py`` for the server's files under ``out``."""
    try:
        mypy_plugin()
    except StubsError as error:
        raise ProtocError(str(error)) from None
    try:
        served, names = server_files(target, services)
    except ReflectionError as error:
        raise ProtocError(str(error)) from None
    files = as_parsed_from_source(served)
    request = plugin_pb2.CodeGeneratorRequest(
        file_to_generate=names, parameter=parameter, proto_file=files
    )
    with mypy_stubs() as stubs, tempfile.TemporaryDirectory(prefix="protoreq-") as scratch:
        stubs.send(request)
        descriptor_set = Path(scratch) / "server.pb"
        descriptor_set.write_bytes(descriptor_pb2.FileDescriptorSet(file=files).SerializeToString())
        out.mkdir(parents=True, exist_ok=True)
        code = _run_protoc([f"--descriptor_set_in={descriptor_set}", f"--python_out={out}", *names])
        if code != 0:
            raise ProtocFailedError(code)
        response = generate(request)
        try:
            stub_response = stubs.response()
        except StubsError as error:
            raise ProtocError(str(error)) from None
    if response.error:
        raise ProtocError(response.error)
    for generated in (*stub_response.file, *response.file):
        target_path = out / generated.name
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target_path.write_bytes(generated.content.encode("utf-8"))
    if package_init:
        write_package_inits(out)
