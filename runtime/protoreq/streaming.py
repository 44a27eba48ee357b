"""Streams of answers: ``GrpcStream`` (``for``) and ``AsyncGrpcStream`` (``async for``).

``client.stream(request)`` and ``client.stream_async(request)`` return them for
server-streaming and bidi RPCs. Like ``GrpcResponse``, a stream carries its
failure as a status instead of raising it: iteration simply *ends*, and then
``is_success()``, ``status_code()``, ``details()`` and ``metadata()`` tell how.
Messages yielded before a failure belong to the consumer; the stream keeps
none of them (it only counts them), so long streams cost no memory and a slow
consumer slows the server down through HTTP/2 flow control.

Asking how a stream ended *before* it ended raises
:class:`StreamNotFinishedError` rather than waiting: the answer is only known
once iteration has stopped or ``cancel()`` was called (``is_finished()`` tells).

Everything but the waiting is shared: both classes keep their state in a
:class:`~protoreq.stream_state.StreamCore` and read their status through
:class:`_StreamStatus`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Protocol, Self, TypeVar

import grpc
from google.protobuf.message import Message

from protoreq.errors import GrpcStatusError
from protoreq.logs import log_payload
from protoreq.metadata import Metadata, received_metadata
from protoreq.scripted_calls import (
    AsyncScriptedCall,
    KnownStatus,
    MetadataInput,
    ScriptedCall,
    as_pairs,
)
from protoreq.status import undecodable_reply
from protoreq.stream_state import (
    CANCELLED_WITH_TASK,
    StreamCore,
    StreamNotFinishedError,
    task_is_cancelled,
)
from protoreq.transport.aio_status import FirstStatus
from protoreq.transport.fast_paths import (
    finished_metadata_async,
    next_message_step,
    next_message_step_async,
)

if TYPE_CHECKING:
    from google.rpc import status_pb2

__all__ = ["AsyncGrpcStream", "GrpcStream", "StreamNotFinishedError"]

T = TypeVar("T", bound=Message)
T_co = TypeVar("T_co", covariant=True)

_CANCELLED_UNDER_US = "the stream was cancelled on the client side (its client was closed?)"


class _SyncCall(Protocol[T_co]):
    """What ``GrpcStream`` needs of grpcio's call (a ``_MultiThreadedRendezvous``)."""

    def __next__(self) -> T_co: ...
    def initial_metadata(self) -> Any: ...
    def trailing_metadata(self) -> Any: ...
    def cancel(self) -> bool: ...


class _AsyncCall(Protocol):
    """What ``AsyncGrpcStream`` needs of a grpc.aio ``UnaryStreamCall`` / ``StreamStreamCall``.

    Messages come from its async iterator (``async for`` over the call, what raw
    grpc.aio code does) rather than from ``read()``, which does more per message.
    """

    def __aiter__(self) -> AsyncIterator[Any]: ...
    async def initial_metadata(self) -> Any: ...
    async def trailing_metadata(self) -> Any: ...
    def cancel(self) -> bool: ...


class _StreamStatus(Generic[T]):
    """How a stream is going and how it ended: the same for sync and async streams."""

    __slots__ = ("_core",)

    def __init__(self, core: StreamCore) -> None:
        self._core = core

    def is_finished(self) -> bool:
        """Whether the stream has ended (iterated to its end, failed, or cancelled)."""
        return self._core.finished

    def is_success(self) -> bool:
        """The server ended the stream with OK; raises :class:`StreamNotFinishedError` before."""
        return self._core.outcome().is_success()

    def status_code(self) -> grpc.StatusCode:
        return self._core.outcome().status_code()

    def details(self) -> str:
        """The server's (or the client's) status message; "" on success."""
        return self._core.outcome().details()

    def metadata(self) -> Metadata:
        """Initial and trailing metadata together; a key in both shows its trailing value."""
        return self._core.outcome().metadata()

    def initial_metadata(self) -> Metadata:
        return self._core.outcome().initial_metadata()

    def trailing_metadata(self) -> Metadata:
        return self._core.outcome().trailing_metadata()

    def rich_status(self) -> status_pb2.Status | None:
        """The ``google.rpc.Status`` the server attached, if any (see ``GrpcResponse``)."""
        return self._core.outcome().rich_status()

    def error_details(self) -> list[Message]:
        return self._core.outcome().error_details()

    def raise_for_status(self) -> Self:
        """``self`` when the stream ended with OK, otherwise raise :class:`GrpcStatusError`."""
        outcome = self._core.outcome()
        if not outcome.is_success():
            raise GrpcStatusError(outcome)
        return self

    def trace_id(self) -> str | None:
        """The ``x-trace-id`` the stream carried; known from the start."""
        return self._core.trace_id

    def method_path(self) -> str:
        return self._core.method_path

    def received_count(self) -> int:
        """Messages received so far (the messages themselves went to the consumer)."""
        return self._core.received

    def sent_count(self) -> int:
        """Messages sent so far: the request's one message, or how many ``messages()`` gave."""
        return self._core.sent()

    def elapsed(self) -> float:
        """Seconds from the start to the end of the stream (so far, while it runs)."""
        return self._core.elapsed()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._core!r}>"


def _scripted_status(
    code: grpc.StatusCode,
    details: str,
    initial_metadata: MetadataInput | Metadata,
    trailing_metadata: MetadataInput | Metadata,
) -> KnownStatus:
    return KnownStatus(code, details, as_pairs(initial_metadata), as_pairs(trailing_metadata))


class GrpcStream(_StreamStatus[T]):
    """The answers of a server-streaming or bidi call, for ``for`` loops.

    ``for message in stream`` yields each message as it arrives and stops at
    the end of the stream *and* on failure; then the status methods tell which.
    ``cancel()`` stops it early (safe from another thread); ``with stream:``
    cancels it on exit if it is still running. Build one with
    ``client.stream(request)``, or with :meth:`from_messages` in tests.
    """

    __slots__ = ("_call", "_next_message")

    def __init__(self, core: StreamCore, call: _SyncCall[T]) -> None:
        """Internal: use ``client.stream()`` or :meth:`from_messages`."""
        super().__init__(core)
        self._call = call
        self._next_message = next_message_step(call)

    @classmethod
    def from_messages(
        cls,
        messages: Iterable[T],
        *,
        code: grpc.StatusCode = grpc.StatusCode.OK,
        details: str = "",
        initial_metadata: MetadataInput | Metadata = (),
        trailing_metadata: MetadataInput | Metadata = (),
        method_path: str = "",
        trace_id: str | None = None,
    ) -> GrpcStream[T]:
        """A stream that yields ``messages`` and then ends with ``code`` and ``details``.

        For test fakes (``protoreq.testing``) and tests of code that consumes
        streams: it behaves exactly like a real stream, including ending
        iteration quietly on a non-OK ``code`` after the scripted messages.
        ``messages`` is consumed lazily, so a generator can script a stream
        that is still running; ``cancel()`` ends it with CANCELLED. Scripted
        streams are not logged.
        """
        core = StreamCore(method_path=method_path, trace_id=trace_id)
        status = _scripted_status(code, details, initial_metadata, trailing_metadata)
        return cls(core, ScriptedCall(messages, status))

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        core = self._core
        if core.ended_with is not None:
            self._ended()
        try:
            message: T = self._next_message()
        except StopIteration:
            core.finish_ok(
                received_metadata(self._call.initial_metadata()),
                received_metadata(self._call.trailing_metadata()),
            )
            self._ended()
        except grpc.RpcError as error:
            core.finish_error(error)
            self._ended()
        except BaseException:
            self.cancel()  # interrupted while waiting (KeyboardInterrupt): stop the call too
            raise
        # StreamCore.received_message(), inline: this runs for every message.
        core.received += 1
        if core.log_payloads:
            log_payload("received", core.method_path, message, core.trace_id)
        return message

    def _ended(self) -> NoReturn:
        self._core.raise_outgoing_error()
        raise StopIteration

    def cancel(self) -> bool:
        """Stop the stream now; it ends with CANCELLED. ``False`` if it had already ended."""
        if self._core.ended_with is not None:
            return False
        self._call.cancel()
        return self._core.finish_cancelled()

    def close(self) -> None:
        """Cancel the stream unless it has ended; the ``with`` block does this on exit."""
        self.cancel()

    def __del__(self) -> None:
        # Dropped unended (a ``break`` out of the only loop over it): end it now, CANCELLED.
        core = getattr(self, "_core", None)  # None if __init__ did not finish
        if core is not None and core.ended_with is None and core.prepared is not None:
            self._call.cancel()
            core.dropped()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncGrpcStream(_StreamStatus[T]):
    """The answers of a server-streaming or bidi call, for ``async for`` loops.

    Returned at once by ``client.stream_async(request)`` (a plain method, not a
    coroutine); the call is already under way. Iteration ends on success and on
    failure alike; ``cancel()`` stops the stream; ``async with stream:`` cancels
    it on exit if still running and waits for its sending task to stop.
    Cancelling the task that iterates cancels the call too.
    """

    __slots__ = ("_call", "_first_status", "_next_message", "_sender")

    def __init__(
        self,
        core: StreamCore,
        call: _AsyncCall,
        sender: asyncio.Task[None] | None = None,
        first_status: FirstStatus | None = None,
    ) -> None:
        """Internal: use ``client.stream_async()`` or :meth:`from_messages`."""
        super().__init__(core)
        self._call = call
        self._next_message = next_message_step_async(call)
        self._sender = sender
        self._first_status = first_status

    @classmethod
    def from_messages(
        cls,
        messages: Iterable[T] | AsyncIterable[T],
        *,
        code: grpc.StatusCode = grpc.StatusCode.OK,
        details: str = "",
        initial_metadata: MetadataInput | Metadata = (),
        trailing_metadata: MetadataInput | Metadata = (),
        method_path: str = "",
        trace_id: str | None = None,
    ) -> AsyncGrpcStream[T]:
        """A stream that yields ``messages`` and then ends with ``code`` and ``details``.

        The async twin of :meth:`GrpcStream.from_messages`, for test fakes;
        ``messages`` may be an async iterable (an async generator can script
        delays). Needs no event loop until it is iterated.
        """
        core = StreamCore(method_path=method_path, trace_id=trace_id)
        status = _scripted_status(code, details, initial_metadata, trailing_metadata)
        return cls(core, AsyncScriptedCall(messages, status))

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        core = self._core
        if core.ended_with is not None:
            self._ended()
        try:
            try:
                message: T = await self._next_message()
            except StopAsyncIteration:
                received = await finished_metadata_async(self._call)
                core.finish_ok(received_metadata(received[0]), received_metadata(received[1]))
                self._ended()  # raises StopAsyncIteration, which the handlers below let through
        except grpc.RpcError as error:
            if self._first_status is not None:
                error = self._first_status.correct(error)
            core.finish_error(error)
            self._ended()
        except asyncio.CancelledError:
            if task_is_cancelled():
                self._call.cancel()
                core.finish_cancelled(CANCELLED_WITH_TASK)
                self._stop_sender()
                raise
            # grpc.aio reports a call cancelled under us (client closed, or our own
            # cancel() racing this read) as CancelledError; a cancel() already settled.
            core.finish_cancelled(_CANCELLED_UNDER_US)
            self._ended()
        if message is None:  # grpc.aio's answer to a message that did not parse
            self._undecodable()
        # StreamCore.received_message(), inline: this runs for every message.
        core.received += 1
        if core.log_payloads:
            log_payload("received", core.method_path, message, core.trace_id)
        return message

    def _undecodable(self) -> NoReturn:
        """End as sync grpcio ends a stream whose message does not parse: INTERNAL, cancelled."""
        self._call.cancel()
        self._core.finish_error(undecodable_reply())
        self._ended()

    def _ended(self) -> NoReturn:
        self._stop_sender()
        self._core.raise_outgoing_error()
        raise StopAsyncIteration

    def _stop_sender(self) -> None:
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()

    def cancel(self) -> bool:
        """Stop the stream now; it ends with CANCELLED. ``False`` if it had already ended."""
        self._stop_sender()
        if self._core.ended_with is not None:
            return False
        self._call.cancel()
        return self._core.finish_cancelled()

    def __del__(self) -> None:
        # No cancel() here: this may run off the loop's thread; grpc.aio cancels a collected call.
        core = getattr(self, "_core", None)
        if core is not None:
            core.dropped()

    async def aclose(self) -> None:
        """Cancel the stream unless it has ended, and wait until its sending task has stopped."""
        self.cancel()
        if self._sender is not None and not self._sender.done():
            await asyncio.wait([self._sender])

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
