"""Everything about a call except its I/O, shared by the sync and async paths.

``GrpcClient.call`` and ``call_async`` (and the streaming methods) differ only
in how they wait on grpcio; checking the request, building metadata, computing
the deadline, deciding on retries, building the response and logging all live
here, once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message

from protoreq._defaults import USE_CLIENT_DEFAULT
from protoreq.context import RequestContext
from protoreq.errors import InvalidRequestError
from protoreq.logs import log_call_outcome, log_payload
from protoreq.metadata import Metadata, MetadataPairs, outgoing_metadata
from protoreq.method import Cardinality, RpcMethod, resolve_method
from protoreq.request import (
    REQUEST_BASES,
    AnyRequest,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcRequest,
    ServerStreamingGrpcRequest,
)
from protoreq.response import GrpcResponse
from protoreq.retry import RetryPolicy
from protoreq.status import LocalRpcError, response_from_error
from protoreq.tracing import with_trace_headers


@dataclass(frozen=True, slots=True)
class CallDefaults:
    """The client-wide settings a request falls back on."""

    target: str
    timeout: float | None
    retry: RetryPolicy | None


@dataclass(slots=True)
class PreparedCall:
    """A checked request, ready to send (possibly several times)."""

    rpc: RpcMethod[Any, Any]
    request: AnyRequest
    message: Message | None  # None for client-streaming and bidi: they send request.messages()
    metadata: MetadataPairs
    deadline: float | None  # time.monotonic() timestamp
    trace_id: str
    retry: RetryPolicy | None
    target: str
    started: float
    attempt: int = 0
    retries_since_pushback: int = 0  # the backoff grows with it; server pushback resets it
    compression: grpc.Compression | None = None  # the request's own choice; None: the client's

    def remaining(self) -> float | None:
        """The timeout for the next attempt: what is left of the overall deadline."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def succeeded(
        self, message: Message, initial: Metadata, trailing: Metadata
    ) -> GrpcResponse[Any]:
        response: GrpcResponse[Any] = GrpcResponse(
            method_path=self.rpc.path,
            code=grpc.StatusCode.OK,
            message=message,
            initial_metadata=initial,
            trailing_metadata=trailing,
            elapsed=self.elapsed(),
            trace_id=self.trace_id,
            attempts=self.attempt,
        )
        self.log(response, reply=message)
        return response

    def cancelled_locally(self) -> GrpcResponse[Any]:
        """grpc.aio reports a call cut off by closing its channel as ``CancelledError``."""
        return self.failed(
            LocalRpcError(grpc.StatusCode.CANCELLED, "the call was cancelled: its channel closed")
        )

    def failed(self, error: BaseException) -> GrpcResponse[Any]:
        response = response_from_error(
            error,
            method_path=self.rpc.path,
            elapsed=self.elapsed(),
            trace_id=self.trace_id,
            attempts=self.attempt,
        )
        self.log(response)
        return response

    def log(
        self,
        response: GrpcResponse[Any],
        extra: dict[str, object] | None = None,
        reply: Message | None = None,
    ) -> None:
        if self.message is not None:
            log_payload("sent", self.rpc.path, self.message, self.trace_id)
        if reply is not None:
            log_payload("received", self.rpc.path, reply, self.trace_id)
        log_call_outcome(
            target=self.target,
            service=self.rpc.service,
            method=self.rpc.method,
            code_name=response.status_code().name,
            elapsed=response.elapsed(),
            attempt=self.attempt,
            trace_id=self.trace_id,
            metadata=self.metadata,
            details=response.details(),
            extra=extra,
        )


def prepare(
    request: object, defaults: CallDefaults, *, streaming_response: bool
) -> PreparedCall | GrpcResponse[Any]:
    """Check ``request`` and compute what sending it needs.

    Misuse raises :class:`InvalidRequestError` (or ``InvalidMetadataError``)
    before anything is sent; a deadline already spent by the enclosing
    :class:`RequestContext` answers DEADLINE_EXCEEDED without sending.
    """
    if not isinstance(request, REQUEST_BASES):
        raise InvalidRequestError(
            f"expected a protoreq request (a GrpcRequest/BaseGrpcRequest subclass or a generated "
            f"*GrpcRequest), got {type(request).__name__}: {request!r:.80}"
        )
    message: Message | None = None
    if isinstance(request, GrpcRequest | ServerStreamingGrpcRequest):
        message = request.message()  # first: a hand-written message() imports its _pb2 module
    rpc = type(request).rpc or resolve_method(request.service_name(), request.method_name())
    _check_kind(request, rpc, streaming_response=streaming_response)
    if message is not None and type(message) is not rpc.request_type:
        _check_message_type(request, rpc, message)

    now = time.monotonic()
    deadline = _deadline(request, defaults, now)
    metadata, trace_id = with_trace_headers(outgoing_metadata(request.metadata()))
    prepared = PreparedCall(
        rpc=rpc,
        request=request,
        message=message,
        metadata=metadata,
        deadline=deadline,
        trace_id=trace_id,
        retry=_retry_policy(request, rpc, defaults),
        target=defaults.target,
        started=now,
        compression=_compression(request),
    )
    if deadline is not None and deadline <= now:
        return prepared.failed(
            LocalRpcError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                "deadline of the enclosing RequestContext expired before the call was sent",
            )
        )
    return prepared


def _deadline(request: AnyRequest, defaults: CallDefaults, now: float) -> float | None:
    timeout = request.timeout()
    if timeout is USE_CLIENT_DEFAULT:
        timeout = defaults.timeout
    if timeout is not None and timeout < 0:
        raise InvalidRequestError(f"{type(request).__name__}.timeout() is negative: {timeout}")
    own = None if timeout is None else now + timeout
    inherited = RequestContext.get_deadline()
    if inherited is None:
        return own
    return inherited if own is None else min(own, inherited)


def _retry_policy(
    request: AnyRequest, rpc: RpcMethod[Any, Any], defaults: CallDefaults
) -> RetryPolicy | None:
    if rpc.cardinality is not Cardinality.UNARY_UNARY:
        # A stream is sent once: its outgoing messages are a one-shot iterable and
        # its answers may already be in the consumer's hands.
        return None
    chosen = request.retry_policy()
    if chosen is USE_CLIENT_DEFAULT:
        # The client's default covers only RPCs the proto declares safe to repeat.
        return defaults.retry if rpc.idempotency.safe_to_retry else None
    return chosen


def _compression(request: AnyRequest) -> grpc.Compression | None:
    chosen = request.compression()
    return None if chosen is USE_CLIENT_DEFAULT else chosen


def _check_kind(request: AnyRequest, rpc: RpcMethod[Any, Any], *, streaming_response: bool) -> None:
    kind = rpc.cardinality
    name = type(request).__name__
    if kind.streams_responses and not streaming_response:
        raise InvalidRequestError(
            f"{name} is a {kind.value} RPC ({rpc.path}): its answers are a stream, "
            "send it with client.stream() or stream_async()"
        )
    if not kind.streams_responses and streaming_response:
        raise InvalidRequestError(
            f"{name} is a {kind.value} RPC ({rpc.path}) with a single answer: "
            "send it with client.call() or call_async()"
        )
    streams_requests = isinstance(request, ClientStreamingGrpcRequest | BidiStreamingGrpcRequest)
    if kind.streams_requests != streams_requests:
        needed = "messages()" if kind.streams_requests else "message()"
        raise InvalidRequestError(
            f"{name} does not fit {rpc.path}: a {kind.value} RPC needs a request with {needed}"
        )


def _check_message_type(request: AnyRequest, rpc: RpcMethod[Any, Any], message: Message) -> None:
    expected = rpc.request_type.DESCRIPTOR.full_name
    actual = getattr(getattr(message, "DESCRIPTOR", None), "full_name", type(message).__name__)
    if actual != expected:
        raise InvalidRequestError(
            f"{type(request).__name__}.message() returned {actual}, but {rpc.path} takes {expected}"
        )
