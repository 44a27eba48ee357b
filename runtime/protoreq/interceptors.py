"""Interceptors: your code around every call, one object for every kind of call.

protoreq's own interceptors see a call as a :class:`ClientCall` — the typed
request, the outgoing metadata (which they may change), the deadline, the trace
id — and its outcome as the :class:`~protoreq.GrpcResponse` (or the stream's
final status) that the caller will see. Nothing is raised through them: a
failure is a value, as everywhere else in protoreq.

Two ways to write one, as Connect and tower do:

* **Hooks** (one implementation for unary and streaming, sync and async):
  override :meth:`Interceptor.on_start` / :meth:`Interceptor.on_end` for the
  whole call and :meth:`Interceptor.on_attempt_start` /
  :meth:`Interceptor.on_attempt_end` for each attempt sent (retries and hedges
  are attempts). ``on_start`` may answer the call locally by returning a
  response (``call.reject(...)``): nothing is sent.
* **Around-call** (Connect's ``call_next``): override ``intercept_unary``,
  ``intercept_unary_async``, ``intercept_stream`` or ``intercept_stream_async``
  to run code before and after ``call_next(call)``, or instead of it.

Where they sit, outermost first::

    prepare ─▶ interceptors (call level, in list order)
            ─▶ retry │ hedging
            ─▶ interceptors' attempt hooks (per attempt, in list order)
            ─▶ transport ─▶ grpcio's own interceptors (per attempt, on the channel)

grpcio's interceptor classes (``grpc.UnaryUnaryClientInterceptor``... and the
``grpc.aio`` ones) given in the same ``interceptors=`` list go onto the
channels the client opens: sync ones onto sync channels, aio ones onto async
channels, so existing interceptors run unchanged on every attempt.

The chain is composed once, when the client is made; a client without
interceptors sends through the retry layer directly and pays nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Final, TypeAlias, TypeVar

import grpc

from protoreq.errors import InvalidInterceptorError
from protoreq.preparation import PreparedCall
from protoreq.response import GrpcResponse
from protoreq.streaming import AsyncGrpcStream, GrpcStream
from protoreq.transport.streams import ended_stream, ended_stream_async

__all__ = [
    "AsyncStreamNext",
    "AsyncUnaryNext",
    "ClientCall",
    "Interceptor",
    "InterceptorChain",
    "StreamNext",
    "UnaryNext",
    "grpc_interceptors",
]

ClientCall: TypeAlias = PreparedCall
"""One call as interceptors see it; see :class:`protoreq.preparation.PreparedCall`."""

UnaryNext: TypeAlias = Callable[[ClientCall], GrpcResponse[Any]]
AsyncUnaryNext: TypeAlias = Callable[[ClientCall], Awaitable[GrpcResponse[Any]]]
StreamNext: TypeAlias = Callable[[ClientCall], GrpcStream[Any]]
AsyncStreamNext: TypeAlias = Callable[[ClientCall], AsyncGrpcStream[Any]]


AnyStreamT = TypeVar("AnyStreamT", GrpcStream[Any], AsyncGrpcStream[Any])


class Interceptor:
    """Base class of protoreq interceptors: override the hooks or the around-call methods.

    Unary calls include client-streaming ones (one answer); streams are
    server-streaming and bidi calls, whose ``on_end`` runs when the stream
    ends — iterated to its end, failed, cancelled or closed.
    """

    # -- hooks: one implementation for every kind --------------------------------------------

    def on_start(self, call: ClientCall) -> GrpcResponse[Any] | None:
        """Before the call is sent; change ``call`` metadata here. A response answers locally."""
        return None

    def on_end(self, call: ClientCall, outcome: GrpcResponse[Any]) -> None:
        """After the call: ``outcome`` is what the caller gets (a stream's final status)."""

    def on_attempt_start(self, call: ClientCall) -> None:
        """Before each attempt (``call.attempt`` counts from 1); metadata changes apply to it.

        ``call.backoff`` is how long the retry layer waited before this attempt (0 for the first).
        """

    def on_attempt_end(self, call: ClientCall, outcome: GrpcResponse[Any]) -> None:
        """After each attempt, before the retry or hedging layer decides what comes next."""

    # -- around-call: Connect's call_next -----------------------------------------------------

    def intercept_unary(self, call_next: UnaryNext, call: ClientCall) -> GrpcResponse[Any]:
        answered = self.on_start(call)
        if answered is not None:
            return answered
        response = call_next(call)
        self.on_end(call, response)
        return response

    async def intercept_unary_async(
        self, call_next: AsyncUnaryNext, call: ClientCall
    ) -> GrpcResponse[Any]:
        answered = self.on_start(call)
        if answered is not None:
            return answered
        response = await call_next(call)
        self.on_end(call, response)
        return response

    def intercept_stream(self, call_next: StreamNext, call: ClientCall) -> GrpcStream[Any]:
        answered = self.on_start(call)
        if answered is not None:
            return rejected_stream(call, answered)
        call.add_done_callback(functools.partial(self.on_end, call))
        return call_next(call)

    def intercept_stream_async(
        self, call_next: AsyncStreamNext, call: ClientCall
    ) -> AsyncGrpcStream[Any]:
        answered = self.on_start(call)
        if answered is not None:
            return rejected_stream_async(call, answered)
        call.add_done_callback(functools.partial(self.on_end, call))
        return call_next(call)


def rejected_stream(call: ClientCall, outcome: GrpcResponse[Any]) -> GrpcStream[Any]:
    """The stream an ``on_start`` answer stands for: already ended, its callbacks run."""
    call.done(outcome)
    return ended_stream(outcome)


def rejected_stream_async(call: ClientCall, outcome: GrpcResponse[Any]) -> AsyncGrpcStream[Any]:
    call.done(outcome)
    return ended_stream_async(outcome)


_ATTEMPT_HOOKS: Final = ("on_attempt_start", "on_attempt_end")


def _overrides(interceptor: Interceptor, names: Iterable[str]) -> bool:
    cls = type(interceptor)
    return any(getattr(cls, name) is not getattr(Interceptor, name) for name in names)


class InterceptorChain:
    """protoreq interceptors composed around a client's layers, once, when the client is made.

    Each method takes the next layer and answers it wrapped, or unchanged when
    no interceptor has anything to do there: an empty chain adds no call.
    """

    __slots__ = ("attempt_hooks", "calls")

    def __init__(self, interceptors: Sequence[Interceptor]) -> None:
        self.calls = tuple(interceptors)
        self.attempt_hooks = tuple(i for i in interceptors if _overrides(i, _ATTEMPT_HOOKS))
        """Only those that override an attempt hook run per attempt."""

    def __bool__(self) -> bool:
        return bool(self.calls)

    def unary(self, send: UnaryNext) -> UnaryNext:
        for interceptor in reversed(self.calls):
            send = functools.partial(interceptor.intercept_unary, send)
        return send

    def unary_async(self, send: AsyncUnaryNext) -> AsyncUnaryNext:
        for interceptor in reversed(self.calls):
            send = functools.partial(interceptor.intercept_unary_async, send)
        return send

    def stream(self, open_stream: StreamNext) -> StreamNext:
        for interceptor in reversed(self.calls):
            open_stream = functools.partial(interceptor.intercept_stream, open_stream)
        return open_stream

    def stream_async(self, open_stream: AsyncStreamNext) -> AsyncStreamNext:
        for interceptor in reversed(self.calls):
            open_stream = functools.partial(interceptor.intercept_stream_async, open_stream)
        return open_stream

    def attempt(self, send: UnaryNext) -> UnaryNext:
        """``send`` (one unary attempt) with the attempt hooks around it."""
        if not self.attempt_hooks:
            return send
        started, ended = self.attempt_started, self.attempt_ended

        def attempt_with_hooks(call: ClientCall) -> GrpcResponse[Any]:
            started(call)
            response = send(call)
            ended(call, response)
            return response

        return attempt_with_hooks

    def attempt_async(self, send: AsyncUnaryNext) -> AsyncUnaryNext:
        if not self.attempt_hooks:
            return send
        started, ended = self.attempt_started, self.attempt_ended

        async def attempt_with_hooks(call: ClientCall) -> GrpcResponse[Any]:
            started(call)
            response = await send(call)
            ended(call, response)
            return response

        return attempt_with_hooks

    def attempt_started(self, call: ClientCall) -> None:
        """An attempt is about to go out (the hedging layer, whose attempts overlap, calls this)."""
        for hook in self.attempt_hooks:
            hook.on_attempt_start(call)

    def attempt_ended(self, call: ClientCall, outcome: GrpcResponse[Any]) -> None:
        """An attempt has ended with ``outcome``: the hooks in reverse order."""
        for hook in reversed(self.attempt_hooks):
            hook.on_attempt_end(call, outcome)

    def stream_attempt(
        self, open_stream: Callable[[ClientCall], AnyStreamT]
    ) -> Callable[[ClientCall], AnyStreamT]:
        """``open_stream`` (a stream's one attempt, sync or async) with the attempt hooks.

        Opening a stream does not wait, so one wrapper serves both kinds of stream.
        """
        if not self.attempt_hooks:
            return open_stream

        def attempt_with_hooks(call: ClientCall) -> AnyStreamT:
            self.start_stream_attempt(call)
            return open_stream(call)

        return attempt_with_hooks

    def start_stream_attempt(self, call: ClientCall) -> None:
        """A stream's one attempt is starting: run the attempt hooks, and their end at its end."""
        call.attempt = 1  # a stream is sent once
        for hook in self.attempt_hooks:
            hook.on_attempt_start(call)
            call.add_done_callback(functools.partial(hook.on_attempt_end, call))


_SYNC_KINDS: Final = (
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
)
_AIO_KINDS: Final = (
    grpc.aio.UnaryUnaryClientInterceptor,
    grpc.aio.UnaryStreamClientInterceptor,
    grpc.aio.StreamUnaryClientInterceptor,
    grpc.aio.StreamStreamClientInterceptor,
)


class _AioKind:
    """One kind of a grpc.aio interceptor that implements several.

    grpc.aio files each interceptor under the first kind it implements only, so
    an object written for all four would see unary calls alone; these adapters
    give it each of its kinds, as ``grpc.intercept_channel`` does for sync ones.
    """

    def __init__(self, interceptor: Any) -> None:
        self.interceptor = interceptor


class _AioUnaryUnary(_AioKind, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self.interceptor.intercept_unary_unary(continuation, details, request)


class _AioUnaryStream(_AioKind, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self.interceptor.intercept_unary_stream(continuation, details, request)


class _AioStreamUnary(_AioKind, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await self.interceptor.intercept_stream_unary(continuation, details, requests)


class _AioStreamStream(_AioKind, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await self.interceptor.intercept_stream_stream(continuation, details, requests)


_AIO_ADAPTERS: Final = tuple(
    zip(
        _AIO_KINDS,
        (_AioUnaryUnary, _AioUnaryStream, _AioStreamUnary, _AioStreamStream),
        strict=True,
    )
)


def _aio_kinds(interceptor: Any) -> list[Any]:
    """``interceptor`` once per grpc.aio kind it implements (itself if it has only one)."""
    kinds = [adapter for kind, adapter in _AIO_ADAPTERS if isinstance(interceptor, kind)]
    if len(kinds) == 1:
        return [interceptor]
    return [adapter(interceptor) for adapter in kinds]


def grpc_interceptors(
    interceptors: Iterable[object],
) -> tuple[tuple[Interceptor, ...], tuple[Any, ...], tuple[Any, ...]]:
    """Split ``interceptors=`` into protoreq's, grpcio's sync ones and grpc.aio's, in order.

    Anything else is refused at once, naming what it is and what would fit.
    """
    own: list[Interceptor] = []
    sync: list[Any] = []
    aio: list[Any] = []
    for interceptor in interceptors:
        known = False
        if isinstance(interceptor, Interceptor):
            own.append(interceptor)
            known = True
        if isinstance(interceptor, _SYNC_KINDS):
            sync.append(interceptor)
            known = True
        if isinstance(interceptor, _AIO_KINDS):
            aio.extend(_aio_kinds(interceptor))
            known = True
        if not known:
            raise InvalidInterceptorError(
                f"interceptors= takes protoreq.Interceptor objects and grpcio client "
                f"interceptors (grpc.UnaryUnaryClientInterceptor..., grpc.aio."
                f"UnaryUnaryClientInterceptor...), not {type(interceptor).__name__}: "
                f"{interceptor!r:.80}"
            )
    return tuple(own), tuple(sync), tuple(aio)
