"""A client of the gRPC server reflection service, sending through protoreq's ``GrpcClient``.

The reflection messages are declared here as a small descriptor in a private
pool, not imported from grpcio-reflection: the CLI must work without that
package, and a private pool cannot collide with it when both are loaded. Only
the fields the CLI reads are declared (unknown fields are skipped on the wire).
v1 and v1alpha share their messages field for field, so one set of classes
serves both paths; :class:`ReflectionClient` asks v1 first and falls back to
v1alpha (which grpcio-reflection serves) when the server lacks v1.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

from protoreq import Cardinality, RpcMethod
from protoreq_generator.dynamic import request_class

if TYPE_CHECKING:
    from protoreq import GrpcClient

_STRING = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
_BYTES = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
_INT32 = descriptor_pb2.FieldDescriptorProto.TYPE_INT32
_MESSAGE = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
_OPTIONAL = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
_REPEATED = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED

_PACKAGE: Final = "protoreq.reflection"


def _field(
    name: str,
    number: int,
    kind: descriptor_pb2.FieldDescriptorProto.Type.ValueType,
    *,
    repeated: bool = False,
    type_name: str = "",
    oneof: bool,
) -> descriptor_pb2.FieldDescriptorProto:
    field = descriptor_pb2.FieldDescriptorProto(
        name=name, number=number, type=kind, label=_REPEATED if repeated else _OPTIONAL
    )
    if type_name:
        field.type_name = f".{_PACKAGE}.{type_name}"
    if oneof:
        field.oneof_index = 0
    return field


def _messages() -> dict[str, type[Message]]:
    """The reflection messages (the subset the CLI uses), with the reflection.proto numbers."""
    file = descriptor_pb2.FileDescriptorProto(
        name="protoreq/reflection/reflection.proto", package=_PACKAGE, syntax="proto3"
    )
    request = file.message_type.add(name="ServerReflectionRequest")
    request.oneof_decl.add(name="message_request")
    request.field.extend(
        [
            _field("host", 1, _STRING, oneof=False),
            _field("file_by_filename", 3, _STRING, oneof=True),
            _field("file_containing_symbol", 4, _STRING, oneof=True),
            _field("list_services", 7, _STRING, oneof=True),
        ]
    )
    response = file.message_type.add(name="ServerReflectionResponse")
    response.oneof_decl.add(name="message_response")
    response.field.extend(
        [
            _field(
                "file_descriptor_response",
                4,
                _MESSAGE,
                type_name="FileDescriptorResponse",
                oneof=True,
            ),
            _field(
                "list_services_response", 6, _MESSAGE, type_name="ListServiceResponse", oneof=True
            ),
            _field("error_response", 7, _MESSAGE, type_name="ErrorResponse", oneof=True),
        ]
    )
    files = file.message_type.add(name="FileDescriptorResponse")
    files.field.append(_field("file_descriptor_proto", 1, _BYTES, repeated=True, oneof=False))
    services = file.message_type.add(name="ListServiceResponse")
    services.field.append(
        _field("service", 1, _MESSAGE, repeated=True, type_name="ServiceResponse", oneof=False)
    )
    service = file.message_type.add(name="ServiceResponse")
    service.field.append(_field("name", 1, _STRING, oneof=False))
    error = file.message_type.add(name="ErrorResponse")
    error.field.extend(
        [
            _field("error_code", 1, _INT32, oneof=False),
            _field("error_message", 2, _STRING, oneof=False),
        ]
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}"))
        for name in ("ServerReflectionRequest", "ServerReflectionResponse")
    }


_CLASSES: Final = _messages()
ReflectionRequest: Final = _CLASSES["ServerReflectionRequest"]
ReflectionResponse: Final = _CLASSES["ServerReflectionResponse"]

SERVICES: Final = (
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
)
"""The reflection services, in the order they are tried."""


class ReflectionError(Exception):
    """The server has no reflection service, or it refused a question; one line to print."""


class SymbolNotFoundError(ReflectionError):
    """The server's reflection does not know a symbol or file (NOT_FOUND)."""


def _rpc(service: str) -> RpcMethod[Any, Any]:
    return RpcMethod(
        service=service,
        method="ServerReflectionInfo",
        request_type=ReflectionRequest,
        response_type=ReflectionResponse,
        cardinality=Cardinality.STREAM_STREAM,
    )


class ReflectionClient:
    """Asks a server's reflection service for its services and their file descriptors."""

    def __init__(self, client: GrpcClient) -> None:
        self._client = client
        self._rpc: RpcMethod[Any, Any] | None = None

    def _ask(self, questions: list[Message]) -> list[Any]:
        candidates = [self._rpc] if self._rpc else [_rpc(service) for service in SERVICES]
        last = ""
        for rpc in candidates:
            with self._client.stream(request_class(rpc)(questions)) as stream:
                answers = list(stream)
            if stream.is_success():
                self._rpc = rpc
                return answers
            last = f"{stream.status_code().name}: {stream.details()}"
            if stream.status_code() is not grpc.StatusCode.UNIMPLEMENTED:
                break
        raise ReflectionError(f"server reflection failed ({last})")

    def services(self) -> list[str]:
        """The fully qualified names of the services the server offers, sorted."""
        (answer,) = self._ask([ReflectionRequest(list_services="*")])
        _raise_if_error(answer)
        return sorted(service.name for service in answer.list_services_response.service)

    def files(self, symbols: Iterable[str]) -> list[descriptor_pb2.FileDescriptorProto]:
        """The files defining ``symbols`` and everything they import, dependencies first.

        A symbol the server does not find is asked again without its last part
        (``pkg.Service.Method`` is found through ``pkg.Service``); raises
        :class:`SymbolNotFoundError` if that fails too.
        """
        found: dict[str, descriptor_pb2.FileDescriptorProto] = {}
        symbols = list(symbols)
        answers = self._ask([ReflectionRequest(file_containing_symbol=s) for s in symbols])
        for symbol, answer in zip(symbols, answers, strict=True):
            try:
                _raise_if_error(answer)
                _collect(answer, found)
            except SymbolNotFoundError:
                parent = symbol.rpartition(".")[0]
                if not parent:
                    raise
                (retried,) = self._ask([ReflectionRequest(file_containing_symbol=parent)])
                _raise_if_error(retried)
                _collect(retried, found)
        missing = _missing_dependencies(found)
        while missing:
            answers = self._ask([ReflectionRequest(file_by_filename=name) for name in missing])
            for answer in answers:
                _raise_if_error(answer)
                _collect(answer, found)
            still = _missing_dependencies(found)
            if still & missing:
                raise ReflectionError(f"server reflection lacks {', '.join(sorted(still))}")
            missing = still
        return list(_dependencies_first(found))


def _raise_if_error(answer: Any) -> None:
    if answer.WhichOneof("message_response") == "error_response":
        error = answer.error_response
        code = grpc.StatusCode.UNKNOWN
        for status in grpc.StatusCode:
            if status.value[0] == error.error_code:
                code = status
        text = f"server reflection: {code.name}: {error.error_message}"
        if code is grpc.StatusCode.NOT_FOUND:
            raise SymbolNotFoundError(text)
        raise ReflectionError(text)


def _collect(answer: Any, found: dict[str, descriptor_pb2.FileDescriptorProto]) -> None:
    for serialized in answer.file_descriptor_response.file_descriptor_proto:
        file = descriptor_pb2.FileDescriptorProto.FromString(serialized)
        found.setdefault(file.name, file)


def _missing_dependencies(found: dict[str, descriptor_pb2.FileDescriptorProto]) -> set[str]:
    return {d for file in found.values() for d in file.dependency if d not in found}


def _dependencies_first(
    found: dict[str, descriptor_pb2.FileDescriptorProto],
) -> Iterator[descriptor_pb2.FileDescriptorProto]:
    done: set[str] = set()

    def visit(name: str) -> Iterator[descriptor_pb2.FileDescriptorProto]:
        if name in done:
            return
        done.add(name)
        for dependency in found[name].dependency:
            yield from visit(dependency)
        yield found[name]

    for name in sorted(found):
        yield from visit(name)
