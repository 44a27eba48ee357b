"""What the runtime needs to know about one RPC, computed once per request class.

Generated classes carry an :class:`RpcMethod` as a class attribute, so sending
them needs no descriptor lookup. Hand-written requests (the original design's
style) only name their service and method; :func:`resolve_method` finds the
rest in the protobuf descriptor pool once and caches it.
"""

from __future__ import annotations

import enum
import threading
from typing import Any, Generic, TypeVar

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from protoreq.errors import UnknownMethodError

ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)


class Cardinality(enum.Enum):
    """How many messages travel each way; decides which call method sends a request."""

    UNARY_UNARY = "unary_unary"
    UNARY_STREAM = "unary_stream"
    STREAM_UNARY = "stream_unary"
    STREAM_STREAM = "stream_stream"

    @property
    def streams_requests(self) -> bool:
        return self in (Cardinality.STREAM_UNARY, Cardinality.STREAM_STREAM)

    @property
    def streams_responses(self) -> bool:
        return self in (Cardinality.UNARY_STREAM, Cardinality.STREAM_STREAM)

    @classmethod
    def of(cls, *, client_streaming: bool, server_streaming: bool) -> Cardinality:
        if client_streaming:
            return cls.STREAM_STREAM if server_streaming else cls.STREAM_UNARY
        return cls.UNARY_STREAM if server_streaming else cls.UNARY_UNARY


class Idempotency(enum.Enum):
    """The proto ``idempotency_level`` option; the client retries only safe RPCs by default."""

    UNKNOWN = "IDEMPOTENCY_UNKNOWN"
    NO_SIDE_EFFECTS = "NO_SIDE_EFFECTS"
    IDEMPOTENT = "IDEMPOTENT"

    @property
    def safe_to_retry(self) -> bool:
        return self is not Idempotency.UNKNOWN


class RpcMethod(Generic[ReqT, RespT]):
    """Static facts about one RPC: names, message types, cardinality, idempotency.

    Frozen, compared and hashed by its fields, as a frozen dataclass would be;
    written out by hand because every generated module builds its requests'
    ``RpcMethod`` at import, and ``@dataclass`` (and importing
    :mod:`dataclasses`) would cost a program that only imports generated code
    about 2 ms (issue 16's import budget is 5 ms in all).
    """

    __slots__ = (
        "cardinality",
        "idempotency",
        "method",
        "path",
        "request_type",
        "response_type",
        "service",
    )
    __match_args__ = (
        "service",
        "method",
        "request_type",
        "response_type",
        "cardinality",
        "idempotency",
    )

    service: str
    method: str
    request_type: type[ReqT]
    response_type: type[RespT]
    cardinality: Cardinality
    idempotency: Idempotency
    path: str
    """``/{service}/{method}``, as grpcio and the server name the RPC."""

    def __init__(  # noqa: PLR0917  # positional too, as the dataclass it replaces took them
        self,
        service: str,
        method: str,
        request_type: type[ReqT],
        response_type: type[RespT],
        cardinality: Cardinality = Cardinality.UNARY_UNARY,
        idempotency: Idempotency = Idempotency.UNKNOWN,
    ) -> None:
        setter = object.__setattr__
        setter(self, "service", service)
        setter(self, "method", method)
        setter(self, "request_type", request_type)
        setter(self, "response_type", response_type)
        setter(self, "cardinality", cardinality)
        setter(self, "idempotency", idempotency)
        setter(self, "path", f"/{service}/{method}")

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.service,
            self.method,
            self.request_type,
            self.response_type,
            self.cardinality,
            self.idempotency,
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"RpcMethod is frozen: cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"RpcMethod is frozen: cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, RpcMethod)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __reduce__(self) -> tuple[type[RpcMethod[ReqT, RespT]], tuple[Any, ...]]:
        return self.__class__, self._fields()  # copy and pickle rebuild it through __init__

    def __repr__(self) -> str:
        return (
            f"RpcMethod({self.path!r}, {self.request_type.DESCRIPTOR.full_name} -> "
            f"{self.response_type.DESCRIPTOR.full_name}, {self.cardinality.value}, "
            f"{self.idempotency.value})"
        )


_IDEMPOTENCY_BY_LEVEL = {
    0: Idempotency.UNKNOWN,
    1: Idempotency.NO_SIDE_EFFECTS,
    2: Idempotency.IDEMPOTENT,
}

_resolved: dict[tuple[str, str], RpcMethod[Any, Any]] = {}
_resolve_lock = threading.Lock()


def resolve_method(service: str, method: str) -> RpcMethod[Any, Any]:
    """The :class:`RpcMethod` for ``service``/``method`` from the default descriptor pool.

    The ``_pb2`` module that defines the service must have been imported; a
    hand-written request's ``message()`` usually does that, so call it first.
    """
    key = (service, method)
    found = _resolved.get(key)
    if found is not None:
        return found
    pool = descriptor_pool.Default()
    try:
        service_descriptor = pool.FindServiceByName(service)
    except KeyError:
        raise UnknownMethodError(
            f"unknown gRPC service {service!r} (method {method!r}): no imported _pb2 module "
            "defines it; import the module generated from its .proto before calling"
        ) from None
    method_descriptor = service_descriptor.methods_by_name.get(method)
    if method_descriptor is None:
        known = ", ".join(sorted(service_descriptor.methods_by_name)) or "none"
        raise UnknownMethodError(
            f"service {service!r} has no method {method!r} (its methods: {known})"
        )
    options = method_descriptor.GetOptions()
    rpc: RpcMethod[Any, Any] = RpcMethod(
        service=service,
        method=method,
        request_type=message_factory.GetMessageClass(method_descriptor.input_type),
        response_type=message_factory.GetMessageClass(method_descriptor.output_type),
        cardinality=Cardinality.of(
            client_streaming=method_descriptor.client_streaming,
            server_streaming=method_descriptor.server_streaming,
        ),
        idempotency=_IDEMPOTENCY_BY_LEVEL.get(options.idempotency_level, Idempotency.UNKNOWN),
    )
    with _resolve_lock:
        return _resolved.setdefault(key, rpc)
