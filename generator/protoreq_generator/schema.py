"""Where the CLI learns a server's schema: reflection, local .proto files or a descriptor set.

Every source ends as a :class:`Schema`: a private descriptor pool holding the
files (dependencies first) and the names of the services to show. A private
pool keeps the schema apart from whatever ``_pb2`` modules this process imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)

from protoreq_generator.protoc import Invocation, descriptor_request
from protoreq_generator.reflection import ReflectionClient, SymbolNotFoundError

if TYPE_CHECKING:
    from protoreq import GrpcClient


class SchemaError(Exception):
    """A symbol the schema lacks, or a schema that cannot be loaded; one line to print."""


@dataclass(frozen=True)
class Schema:
    """Files in a pool, and the services they offer (sorted)."""

    pool: descriptor_pool.DescriptorPool
    files: tuple[descriptor_pb2.FileDescriptorProto, ...]
    services: tuple[str, ...]

    @classmethod
    def of_files(
        cls, files: Iterable[descriptor_pb2.FileDescriptorProto], services: Sequence[str] = ()
    ) -> Schema:
        pool = descriptor_pool.DescriptorPool()
        added = []
        for file in files:
            try:
                pool.Add(file)
            except (TypeError, ValueError) as error:
                raise SchemaError(f"cannot load {file.name}: {error}") from None
            added.append(file)
        names = services or sorted(
            f"{file.package}.{service.name}" if file.package else service.name
            for file in added
            for service in file.service
        )
        return cls(pool, tuple(added), tuple(names))

    def service(self, name: str) -> ServiceDescriptor:
        try:
            return self.pool.FindServiceByName(name)
        except KeyError:
            known = ", ".join(self.services) or "none"
            raise SchemaError(f"unknown service {name!r} (services: {known})") from None

    def method(self, spec: str) -> MethodDescriptor:
        """``SERVICE/METHOD`` or ``SERVICE.METHOD``; unknown names list what exists."""
        service_name, method_name = _split_method(spec)
        service = self.service(service_name)
        method = service.methods_by_name.get(method_name)
        if method is None:
            known = ", ".join(m.name for m in service.methods) or "none"
            raise SchemaError(
                f"service {service_name!r} has no method {method_name!r} (methods: {known})"
            )
        return method

    def symbol(
        self, name: str
    ) -> ServiceDescriptor | MethodDescriptor | Descriptor | EnumDescriptor:
        """A service, method, message or enum by its full name (a leading dot is allowed)."""
        name = name.lstrip(".")
        finders = (
            self.pool.FindServiceByName,
            self.pool.FindMessageTypeByName,
            self.pool.FindEnumTypeByName,
            self.pool.FindMethodByName,
        )
        for finder in finders:
            try:
                return finder(name)
            except KeyError:
                continue
        if "/" in name:
            return self.method(name)
        raise SchemaError(f"symbol {name!r} not found (services: {', '.join(self.services)})")


def _split_method(spec: str) -> tuple[str, str]:
    spec = spec.lstrip("/")
    service, slash, method = spec.rpartition("/")
    if not slash:
        service, dot, method = spec.rpartition(".")
        if not dot:
            raise SchemaError(f"{spec!r} is not SERVICE/METHOD (e.g. chat.ChatService/Send)")
    if not service or not method:
        raise SchemaError(f"{spec!r} is not SERVICE/METHOD (e.g. chat.ChatService/Send)")
    return service, method


def symbol_name(symbol: str) -> str:
    """``pkg.Service/Method`` as the dotted name reflection looks up."""
    return symbol.strip("/.").replace("/", ".")


def service_of(method: str) -> str:
    """The service part of ``SERVICE/METHOD`` or ``SERVICE.METHOD`` (as given when malformed)."""
    try:
        return _split_method(method)[0]
    except SchemaError:
        return method


def from_reflection(client: GrpcClient, symbols: Sequence[str] = ()) -> Schema:
    """The services a server lists, and the files (with imports) defining ``symbols``.

    Only what a command needs is fetched: ``list`` needs no files at all. A
    symbol the server does not know is left out, so looking it up in the schema
    fails with the list of services.
    """
    reflection = ReflectionClient(client)
    names = reflection.services()
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for symbol in symbols:
        try:
            fetched = reflection.files([symbol])
        except SymbolNotFoundError:
            continue
        for file in fetched:
            files.setdefault(file.name, file)
    return Schema.of_files(files.values(), names)


def from_protos(protos: Sequence[Path], includes: Sequence[Path]) -> Schema:
    """Compile local .proto files with the bundled protoc (its errors are printed by protoc)."""
    request = descriptor_request(Invocation(includes=tuple(includes), sources=tuple(protos)))
    return Schema.of_files(request.proto_file)


def from_protoset(path: Path) -> Schema:
    """A serialized ``FileDescriptorSet`` (``protoc --descriptor_set_out --include_imports``)."""
    try:
        files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file
    except (OSError, Exception) as error:
        raise SchemaError(f"cannot read descriptor set {path}: {error}") from None
    return Schema.of_files(files)
