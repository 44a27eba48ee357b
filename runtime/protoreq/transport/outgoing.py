"""The outgoing half of client-streaming and bidi calls: the caller's messages, checked and counted.

grpcio pulls outgoing messages itself: the sync API in a thread of its own,
the async API through ``call.write()`` driven by :func:`send_all`. In both
cases an exception raised by the caller's iterable (or a message of the wrong
type) would otherwise surface only as an anonymous UNKNOWN or INTERNAL status;
:class:`OutgoingMessages` keeps it, cancels the call and has the stream (or
``call()``) re-raise it to the caller, because a bug in the caller's code is
not an RPC outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import grpc
from google.protobuf.message import Message

from protoreq.errors import InvalidRequestError
from protoreq.logs import log_payload
from protoreq.preparation import PreparedCall
from protoreq.request import BidiStreamingGrpcRequest, ClientStreamingGrpcRequest
from protoreq.transport.fast_paths import CLOSED_CHANNEL_ERRORS

_CALL_OVER: tuple[type[Exception], ...] = (
    grpc.RpcError,
    asyncio.InvalidStateError,
    *(error for error in CLOSED_CHANNEL_ERRORS if error is not ValueError),
)
"""What a write or half-close raises once the call has ended or close() closed its channel
(grpc.aio's Cython errors; not ``ValueError``, which the caller's messages may raise)."""

Source = Iterable[Any] | AsyncIterable[Any]


class OutgoingMessages:
    """Counts, type-checks and (at DEBUG) logs each outgoing message; remembers the first error."""

    __slots__ = ("_cancel", "_error", "_lock", "_log_payloads", "_prepared", "count")

    def __init__(self, prepared: PreparedCall) -> None:
        self._prepared = prepared
        self._log_payloads = prepared.defaults.log_payloads
        self.count = 0
        self._error: BaseException | None = None
        self._cancel: Callable[[], object] | None = None
        self._lock = threading.Lock()

    def accept(self, message: object) -> Message:
        rpc = self._prepared.rpc
        if type(message) is not rpc.request_type:
            expected = rpc.request_type.DESCRIPTOR.full_name
            actual = getattr(getattr(message, "DESCRIPTOR", None), "full_name", None)
            if actual != expected:
                raise InvalidRequestError(
                    f"{type(self._prepared.request).__name__}.messages() yielded "
                    f"{actual or type(message).__name__}, but {rpc.path} takes {expected}"
                )
        assert isinstance(message, Message)
        self.count += 1
        if self._log_payloads:
            log_payload("sent", rpc.path, message, self._prepared.trace_id)
        return message

    def attach(self, cancel: Callable[[], object]) -> None:
        """Give the started call's ``cancel``; an error that came first cancels it now."""
        with self._lock:
            self._cancel = cancel
            failed = self._error is not None
        if failed:
            cancel()

    def fail(self, error: BaseException) -> None:
        """The caller's iterable raised (or yielded a wrong message): stop the call."""
        with self._lock:
            if self._error is None:
                self._error = error
            cancel = self._cancel
        if cancel is not None:
            cancel()

    def raise_error(self) -> None:
        """Raise the remembered error, once: later questions get the stream's status instead."""
        with self._lock:
            error, self._error = self._error, None
        if error is not None:
            raise error


def _request_of(
    prepared: PreparedCall,
) -> ClientStreamingGrpcRequest[Any, Any] | BidiStreamingGrpcRequest[Any, Any]:
    request = prepared.request
    assert isinstance(request, ClientStreamingGrpcRequest | BidiStreamingGrpcRequest)
    return request


def sync_source(prepared: PreparedCall) -> Iterable[Any]:
    """``request.messages()`` for a sync call; an async iterable is misuse, caught at once."""
    request = _request_of(prepared)
    source = request.messages()
    if isinstance(source, Iterable):
        return source
    name = type(request).__name__
    if isinstance(source, AsyncIterable):
        instead = (
            "call_async()" if isinstance(request, ClientStreamingGrpcRequest) else "stream_async()"
        )
        raise InvalidRequestError(
            f"{name}.messages() is an async iterable ({type(source).__name__}), which a sync "
            f"call cannot consume: send the request with {instead} or give a plain iterable"
        )
    raise InvalidRequestError(
        f"{name}.messages() must return an iterable of messages, got {type(source).__name__}"
    )


def async_source(prepared: PreparedCall) -> Source:
    """``request.messages()`` for an async call: an async iterable or a plain iterable."""
    request = _request_of(prepared)
    source = request.messages()
    if isinstance(source, AsyncIterable | Iterable):
        return source
    raise InvalidRequestError(
        f"{type(request).__name__}.messages() must return an iterable or async iterable of "
        f"messages, got {type(source).__name__}"
    )


def sync_sender(source: Iterable[Any], outgoing: OutgoingMessages) -> Iterator[Message]:
    """The iterator grpcio's sending thread pulls from (it blocks there as the caller's does)."""
    try:
        for message in source:
            yield outgoing.accept(message)
    except Exception as error:  # re-raised to the caller by the stream or call()
        outgoing.fail(error)


async def async_sender(source: Source, outgoing: OutgoingMessages) -> AsyncIterator[Message]:
    """The request iterator grpc.aio pulls from itself (what ``sync_sender`` is to sync grpcio).

    Client-streaming calls are fed this way rather than by ``call.write()``:
    an interceptor may hold the call until it has finished (OpenTelemetry's
    awaits its status), and ``write()`` waits for the interceptors first, so
    it would wait forever. grpc.aio writes each message with the same flow
    control ``write()`` has.
    """
    iterator: AsyncIterator[Any] | None = None
    try:
        if isinstance(source, AsyncIterable):
            iterator = aiter(source)
            async for message in iterator:
                yield outgoing.accept(message)
        else:
            for message in source:
                yield outgoing.accept(message)
    except Exception as error:  # re-raised to the caller by call_async()
        outgoing.fail(error)
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(RuntimeError):  # still running: cancellation ends it
                await aclose()


async def send_all(call: Any, source: Source, outgoing: OutgoingMessages) -> None:
    """Write every outgoing message to a grpc.aio call, then half-close it.

    Runs as a task beside the reading side; ``call.write()`` waits for HTTP/2
    flow control, so a slow server slows the caller's iterable down instead of
    letting messages pile up. When the call ends first, writing just stops: the
    reading side reports the status.
    """
    iterator: AsyncIterator[Any] | None = None
    try:
        if isinstance(source, AsyncIterable):
            iterator = aiter(source)
            async for message in iterator:
                await call.write(outgoing.accept(message))
        else:
            for message in source:
                await call.write(outgoing.accept(message))
        await call.done_writing()
    except _CALL_OVER:
        pass  # the call is over (or close() closed its channel); the reading side reports it
    except Exception as error:  # re-raised to the caller by the stream or call_async()
        outgoing.fail(error)
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(RuntimeError):  # still running: cancellation ends it
                await aclose()
