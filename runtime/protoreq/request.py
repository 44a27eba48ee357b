"""Request objects: what to call, with what message, metadata and timeout.

Four abstract kinds, one per gRPC cardinality, deliberately *not* subclasses of
each other, so that mypy rejects sending a streaming request through ``call()``
or a unary one through ``stream()``:

* :class:`GrpcRequest` / :class:`BaseGrpcRequest` — unary; the original design's
  hand-written requests subclass these.
* :class:`ClientStreamingGrpcRequest` — many messages in, one answer (``call``).
* :class:`ServerStreamingGrpcRequest` — one message in, a stream out (``stream``).
* :class:`BidiStreamingGrpcRequest` — streams both ways (``stream``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from protoreq._defaults import TRACE_ID_KEY, USE_CLIENT_DEFAULT, UseClientDefault
from protoreq.method import ReqT, RespT, RpcMethod

if TYPE_CHECKING:
    import grpc

    from protoreq.hedging import HedgingPolicy
    from protoreq.retry import RetryPolicy

MetadataValue = str | bytes
"""A metadata value: ``str`` for text keys, ``bytes`` for keys ending in ``-bin``."""


class _RequestSettings(ABC):
    """What every request kind can say besides its message: names, metadata, deadline, retry."""

    rpc: ClassVar[RpcMethod[Any, Any] | None] = None
    """Set by generated classes: the RPC's static facts, so no descriptor lookup is needed."""

    @abstractmethod
    def service_name(self) -> str:
        """Fully qualified proto service name, e.g. ``"user.UserService"``."""

    @abstractmethod
    def method_name(self) -> str:
        """The RPC's name within the service, e.g. ``"GetUser"``."""

    def metadata(self) -> Mapping[str, MetadataValue | None]:
        """Outgoing metadata; keys whose value is ``None`` are left out."""
        return {}

    def timeout(self) -> float | UseClientDefault | None:
        """Seconds the whole call may take; ``None`` for no deadline."""
        return USE_CLIENT_DEFAULT

    def retry_policy(self) -> RetryPolicy | UseClientDefault | None:
        """A policy here is an explicit opt-in to retries, even for non-idempotent RPCs."""
        return USE_CLIENT_DEFAULT

    def hedging_policy(self) -> HedgingPolicy | UseClientDefault | None:
        """A policy here hedges this call even if the RPC is not idempotent; ``None``: never.

        A call is hedged or retried, not both: a request that hedges is not retried.
        """
        return USE_CLIENT_DEFAULT

    def compression(self) -> grpc.Compression | UseClientDefault:
        """Compression for this call, e.g. ``grpc.Compression.Gzip``; by default the client's."""
        return USE_CLIENT_DEFAULT


_context: ModuleType | None = None
""":mod:`protoreq.context`, once a request asks for its trace id: loaded then, not when request
classes are defined, so a program that only imports generated modules (a CLI's ``--help``)
does not pay for it."""


def _load_context() -> ModuleType:
    global _context  # noqa: PLW0603  # set once, on the first request's metadata()
    import protoreq.context  # noqa: PLC0415

    _context = protoreq.context
    return _context


class _RequestDefaults(_RequestSettings):
    """The defaults of the original design's ``BaseGrpcRequest``.

    Subclasses written by hand often skip ``super().__init__()``, so every
    setting also has a class-level fallback.
    """

    _extra_metadata: Mapping[str, MetadataValue] | None = None
    _timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT
    # Generated constructors set these two themselves (templates/request.py.j2): a
    # super().__init__() call per request costs more than the rest of the constructor.

    def __init__(
        self,
        *,
        metadata: Mapping[str, MetadataValue] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> None:
        self._extra_metadata = metadata
        self._timeout = timeout

    def metadata(self) -> dict[str, Any]:
        """The caller's metadata plus ``x-trace-id`` from :class:`RequestContext` or a fresh id.

        Typed ``dict[str, Any]`` so that the original design's overrides,
        ``-> dict[str, str]`` returning ``{**super().metadata(), ...}``, type-check;
        values are validated when the call is made.
        """
        context = _context or _load_context()
        trace_id = context.RequestContext.get_trace_id() or context.new_trace_id()
        if self._extra_metadata:
            return {TRACE_ID_KEY: trace_id, **self._extra_metadata}
        return {TRACE_ID_KEY: trace_id}

    def timeout(self) -> float | UseClientDefault | None:
        return self._timeout


class GrpcRequest(_RequestSettings, Generic[ReqT, RespT]):
    """A unary RPC: one message out, one answer back, sent with ``client.call()``."""

    @abstractmethod
    def message(self) -> ReqT:
        """The protobuf message to send."""


class BaseGrpcRequest(_RequestDefaults, GrpcRequest[ReqT, RespT]):
    """A unary request with defaults: trace-id metadata and the client's default timeout."""


class ServerStreamingGrpcRequest(_RequestDefaults, Generic[ReqT, RespT]):
    """One message out, a stream of answers back, sent with ``client.stream()``."""

    @abstractmethod
    def message(self) -> ReqT:
        """The protobuf message to send."""


class ClientStreamingGrpcRequest(_RequestDefaults, Generic[ReqT, RespT]):
    """A stream of messages out, one answer back, sent with ``client.call()``."""

    @abstractmethod
    def messages(self) -> Iterable[ReqT] | AsyncIterable[ReqT]:
        """The outgoing messages; an async iterable only works with ``call_async()``."""


class BidiStreamingGrpcRequest(_RequestDefaults, Generic[ReqT, RespT]):
    """Streams both ways, sent with ``client.stream()``; outgoing messages may depend on answers."""

    @abstractmethod
    def messages(self) -> Iterable[ReqT] | AsyncIterable[ReqT]:
        """The outgoing messages; an async iterable only works with ``stream_async()``."""


UnaryResponseRequest = GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
StreamResponseRequest = (
    ServerStreamingGrpcRequest[Any, RespT] | BidiStreamingGrpcRequest[Any, RespT]
)
AnyRequest = (
    GrpcRequest[Any, Any]
    | ClientStreamingGrpcRequest[Any, Any]
    | ServerStreamingGrpcRequest[Any, Any]
    | BidiStreamingGrpcRequest[Any, Any]
)
REQUEST_BASES = (
    GrpcRequest,
    ClientStreamingGrpcRequest,
    ServerStreamingGrpcRequest,
    BidiStreamingGrpcRequest,
)
