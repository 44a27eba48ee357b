"""The two places where protoreq reads grpcio's internals for speed, each with a public fallback.

A unary call costs grpcio about a quarter of a million CPU instructions, and
the benchmark (``bench/``) holds protoreq to 5 % on top. Two public grpcio
APIs alone would spend most of that 5 %:

* sync ``with_call()`` builds a ``_MultiThreadedRendezvous`` (an exception
  object with four bases) only so that the caller can read the metadata
  behind a lock; :func:`unary_call` calls the ``_blocking()`` step that both
  ``__call__`` and ``with_call`` run, and reads the finished state directly;
* grpc.aio's ``initial_metadata()`` and ``trailing_metadata()`` are two more
  awaits per call that each wrap the raw tuples in an ``aio.Metadata``;
  :func:`finished_metadata` reads the tuples from the finished Cython call, as
  grpc.aio's own ``__await__`` does;
* a grpc.aio unary call runs in a task of its own, which the caller's task
  then awaits: a second coroutine, a loop iteration and a Python call object
  per call. :class:`AioUnaryUnary` runs the Cython call's one batch in the
  caller's own task instead, doing what grpc.aio's ``UnaryUnaryCall`` does
  around it (deadline, cancellation, the channel's record of calls that
  ``close()`` cancels).

Each is feature-detected once (the sync ones at import, the aio one at the
first grpc.aio multicallable, since sync programs never import grpc.aio); if
grpcio changes what they rely on, the public APIs are used instead
(tests/bench/test_fast_paths.py runs both ways against a real server).

And both hold only for grpcio's own objects. An intercepted channel
(``grpc.intercept_channel``, or OpenTelemetry's instrumentation, which wraps
every channel grpcio opens) hands out multicallables of other classes, whose
calls may even be bare generators: :func:`on_public_road` looks at each
multicallable once, when the client makes it, and puts an adapter that takes
the public road in front of any that is not grpcio's own.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableSet
from typing import Any, Final

import grpc

Options = Mapping[str, Any]
ReceivedPairs = tuple[Any, Any]
"""Raw initial and trailing metadata as grpcio hands them out (tuples of pairs)."""

_OK: Final = grpc.StatusCode.OK
_BLOCKING_PARAMETERS: Final = (
    "self",
    "request",
    "timeout",
    "metadata",
    "credentials",
    "wait_for_ready",
    "compression",
)


def _grpcio_classes(*names: str) -> tuple[type, ...]:
    """grpcio's own sync multicallable classes of these names (those it still has)."""
    try:
        from grpc import _channel  # noqa: PLC0415
    except ImportError:
        return ()
    return tuple(cls for name in names if isinstance(cls := getattr(_channel, name, None), type))


_GRPCIO_UNARY: Final = _grpcio_classes("_UnaryUnaryMultiCallable")
_GRPCIO_STREAMING: Final = _grpcio_classes(
    "_UnaryStreamMultiCallable", "_StreamStreamMultiCallable"
)


def _blocking_error_factory() -> Callable[[Any], grpc.RpcError] | None:
    """grpcio's error class for a finished failed call, if ``_blocking()`` looks as expected."""
    try:
        from grpc import _channel  # noqa: PLC0415

        blocking = _channel._UnaryUnaryMultiCallable._blocking
        error_class: Callable[[Any], grpc.RpcError] = _channel._InactiveRpcError
        state_parameters = inspect.signature(_channel._RPCState.__init__).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return None
    if tuple(inspect.signature(blocking).parameters) != _BLOCKING_PARAMETERS:
        return None
    if not {"initial_metadata", "trailing_metadata", "code"} <= set(state_parameters):
        return None
    return error_class


_INACTIVE_RPC_ERROR: Final = _blocking_error_factory()
UNARY_FAST_PATH: Final = _INACTIVE_RPC_ERROR is not None
"""Whether :func:`unary_call` reads grpcio's finished call state (else: ``with_call``)."""


def _unary_call_fast(
    multicallable: Any, message: Any, timeout: float | None, metadata: Any, options: Options
) -> tuple[Any, ReceivedPairs]:
    state, _ = multicallable._blocking(message, timeout, metadata, **options)
    if state.code is _OK:
        return state.response, (state.initial_metadata, state.trailing_metadata)
    assert _INACTIVE_RPC_ERROR is not None
    raise _INACTIVE_RPC_ERROR(state)


def unary_call_public(
    multicallable: Any, message: Any, timeout: float | None, metadata: Any, options: Options
) -> tuple[Any, Any]:
    """:func:`unary_call` through ``with_call()``: the finished call answers metadata questions."""
    return multicallable.with_call(message, timeout=timeout, metadata=metadata, **options)  # type: ignore[no-any-return]


unary_call: Final = _unary_call_fast if UNARY_FAST_PATH else unary_call_public
"""``unary_call(multicallable, message, timeout, metadata, options) -> (reply, received)``.

A sync unary call; failures raise ``grpc.RpcError`` as ``with_call()`` does.
``received`` answers metadata questions later: the raw ``(initial, trailing)``
tuples, or (public fallback) the finished call, whose ``initial_metadata()`` /
``trailing_metadata()`` return them.
"""


class _Answered:
    """What :func:`_unary_call_fast` reads of grpcio's finished call state, for an OK reply."""

    __slots__ = ("initial_metadata", "response", "trailing_metadata")

    code = _OK

    def __init__(self, response: Any, call: grpc.Call) -> None:
        self.response = response
        self.initial_metadata = call.initial_metadata()
        self.trailing_metadata = call.trailing_metadata()


class PublicUnaryUnary:
    """An intercepted sync unary multicallable, called the way every one answers: ``with_call``.

    It offers the one method the fast path calls, so :func:`unary_call` needs
    no branch for it: failures raise ``grpc.RpcError`` from ``with_call`` as
    grpcio's own do.
    """

    __slots__ = ("_multicallable",)

    def __init__(self, multicallable: Any) -> None:
        self._multicallable = multicallable

    def _blocking(
        self, message: Any, timeout: float | None, metadata: Any, **options: Any
    ) -> tuple[_Answered, grpc.Call]:
        reply, call = self._multicallable.with_call(
            message, timeout=timeout, metadata=metadata, **options
        )
        return _Answered(reply, call), call

    def future(self, message: Any, **keywords: Any) -> Any:
        """A hedge's non-blocking attempt: the intercepted multicallable's own ``future``."""
        return self._multicallable.future(message, **keywords)


class PublicStreaming:
    """An intercepted sync server-streaming or bidi multicallable; its calls look like grpcio's.

    ``GrpcStream`` needs a call that is an iterator *and* a ``grpc.Call``
    (metadata, ``cancel()``). An interceptor may return just an iterator:
    OpenTelemetry's returns a generator that re-yields grpcio's call, to time
    the whole stream. Such results are wrapped in :class:`IteratedCall`.
    """

    __slots__ = ("_multicallable",)

    def __init__(self, multicallable: Any) -> None:
        self._multicallable = multicallable

    def __call__(self, request: Any, **keywords: Any) -> Any:
        result = self._multicallable(request, **keywords)
        return result if isinstance(result, grpc.Call) else IteratedCall(result)


_NESTED_INTERCEPTORS: Final = 8
"""How many generators deep :class:`IteratedCall` looks for grpcio's call (one per interceptor)."""


class IteratedCall:
    """A call that an interceptor handed back as a plain iterator of replies.

    The messages and failures come from the iterator (grpcio's errors pass
    through it). Metadata and ``cancel()`` come from grpcio's call when it can
    be found: a generator that delegates with ``yield from`` exposes it as
    ``gi_yieldfrom`` (documented by :mod:`inspect`) while suspended, through
    as many such generators as interceptors are stacked. Without
    it, metadata is empty and ``cancel()`` closes the iterator.
    """

    __slots__ = ("_call", "_results")

    def __init__(self, results: Iterator[Any]) -> None:
        self._results = results
        self._call: grpc.Call | None = None

    def __iter__(self) -> IteratedCall:
        return self

    def __next__(self) -> Any:
        message = next(self._results)
        if self._call is None:
            self._call = self._find_call()
        return message

    def _find_call(self) -> grpc.Call | None:
        inner: Any = self._results
        for _ in range(_NESTED_INTERCEPTORS):
            inner = getattr(inner, "gi_yieldfrom", None)
            if inner is None or isinstance(inner, grpc.Call):
                return inner
        return None

    def initial_metadata(self) -> Any:
        return () if self._call is None else self._call.initial_metadata()

    def trailing_metadata(self) -> Any:
        return () if self._call is None else self._call.trailing_metadata()

    def cancel(self) -> bool:
        call = self._call or self._find_call()
        if call is not None:
            return call.cancel()
        close = getattr(self._results, "close", None)
        if callable(close):
            try:
                close()
            except ValueError:  # running in another thread right now: nothing to cancel by
                return False
        return True


def _rendezvous_steps() -> tuple[type, ...]:
    """grpcio's sync stream classes whose ``__next__`` only returns ``self._next()``."""
    try:
        from grpc import _channel  # noqa: PLC0415

        base = _channel._Rendezvous
        plain_next = base.__next__
        code = plain_next.__code__
    except (ImportError, AttributeError):
        return ()
    if code.co_names != ("_next",) or code.co_argcount != 1:
        return ()
    classes = [getattr(_channel, name, None) for name in _STREAM_CALLS]
    return tuple(
        cls
        for cls in classes
        if isinstance(cls, type) and issubclass(cls, base) and cls.__next__ is plain_next
    )


_STREAM_CALLS: Final = ("_MultiThreadedRendezvous", "_SingleThreadedRendezvous")
_RENDEZVOUS_STEPS: Final = _rendezvous_steps()


def next_message_step(call: Any) -> Callable[[], Any]:
    """What a sync stream calls for each message: grpcio's ``_next`` step, or ``__next__``.

    grpcio's stream calls answer ``next(call)`` with a Python ``__next__`` that
    only calls ``self._next()``; calling that step directly saves a frame per
    message (issue 16: a stream through protoreq costs what the raw stub does).
    Any other iterator (an interceptor's, a scripted one) is stepped by its
    ``__next__``.
    """
    step: Callable[[], Any] = call._next if type(call) in _RENDEZVOUS_STEPS else call.__next__
    return step


def on_public_road(kind: str, multicallable: Any) -> Any:
    """``multicallable`` if it is grpcio's own sync one (the fast paths hold), else an adapter.

    Called once per multicallable, when the client makes it: calls pay nothing.
    """
    if kind == "unary_unary":
        if isinstance(multicallable, _GRPCIO_UNARY) or not UNARY_FAST_PATH:
            return multicallable  # (without the fast path, unary_call is with_call already)
        return PublicUnaryUnary(multicallable)
    if kind in ("unary_stream", "stream_stream") and not isinstance(
        multicallable, _GRPCIO_STREAMING
    ):
        return PublicStreaming(multicallable)
    return multicallable  # stream_unary: future() is public; and what the tests add


class PublicAioUnaryUnary:
    """A grpc.aio unary multicallable called the public way: its call object, awaited.

    For intercepted grpc.aio channels, calls that ask for compression, and
    grpcio versions whose internals :class:`AioUnaryUnary` does not recognise.
    """

    __slots__ = ("_multicallable",)

    def __init__(self, multicallable: Any) -> None:
        self._multicallable = multicallable

    async def __call__(
        self, message: Any, timeout: float | None, metadata: Any, options: Options
    ) -> tuple[Any, Any]:
        call = self._multicallable(message, timeout=timeout, metadata=metadata, **options)
        reply = await call
        return reply, await finished_metadata_async(call)


class _CallInFlight:
    """What grpc.aio's ``Channel.close()`` needs of a call it must cancel: done, code, cancel."""

    __slots__ = ("__weakref__", "_call")  # grpc.aio keeps its calls in a WeakSet

    def __init__(self, call: Any) -> None:
        self._call = call

    def done(self) -> bool:
        return bool(self._call.done())

    async def code(self) -> object:  # close(grace) waits on it; the value is not read
        return await self._call.status()

    def cancel(self) -> bool:
        if self._call.done():
            return False
        self._call.cancel(_aio_internals().cancelled_details)
        return True


class _AioInternals:
    """The grpc.aio and Cython names :class:`AioUnaryUnary` uses, found once."""

    __slots__ = ("cancelled_details", "census_context", "multicallable_class", "rpc_error")

    def __init__(self) -> None:
        from grpc._cython import cygrpc  # noqa: PLC0415
        from grpc.aio import _call, _channel  # noqa: PLC0415

        self.multicallable_class: Any = _channel.UnaryUnaryMultiCallable
        self.rpc_error: Callable[[Any, Any], grpc.RpcError] = _call._create_rpc_error
        self.cancelled_details: str = _call._LOCAL_CANCELLATION_DETAILS
        self.census_context: Callable[[], Any] = cygrpc.build_census_context
        if not callable(getattr(cygrpc._AioCall, "unary_unary", None)):
            raise AttributeError("_AioCall.unary_unary")
        if not callable(getattr(_channel.Channel, "_register_call", None)):
            raise AttributeError("Channel._register_call")  # older: close() finds calls by task


@functools.cache
def _aio_internals() -> _AioInternals:
    return _AioInternals()


def aio_fast_path_holds() -> bool:
    """Whether :class:`AioUnaryUnary` can run grpc.aio unary calls in the caller's task."""
    try:
        _aio_internals()
    except (ImportError, AttributeError, TypeError):
        return False
    return True


class AioUnaryUnary:
    """A grpc.aio unary call, run in the caller's task: grpc.aio's ``UnaryUnaryCall`` without it.

    ``await unary(message, timeout, metadata, options) -> (reply, received)``,
    as :func:`unary_call` answers sync calls: failures raise grpc.aio's
    ``AioRpcError`` (built by grpc.aio's own function), a call cancelled under
    it (``close()``) raises ``CancelledError`` as grpc.aio's does, and a reply
    that does not parse comes back as ``None``. ``compression`` goes the
    public way (grpc.aio adds it to the metadata itself).
    """

    __slots__ = (
        "_active_calls",
        "_channel",
        "_deserialize",
        "_handle",
        "_internals",
        "_method",
        "_public",
        "_serialize",
    )

    def __init__(self, multicallable: Any) -> None:
        self._internals = _aio_internals()
        self._public = PublicAioUnaryUnary(multicallable)
        self._channel = multicallable._channel
        self._method: bytes = multicallable._method
        self._serialize: Callable[[Any], bytes] = multicallable._request_serializer
        self._deserialize: Callable[[bytes], Any] = multicallable._response_deserializer
        self._handle = multicallable._registered_call_handle
        self._active_calls: MutableSet[Any] = multicallable._python_channel._active_calls

    async def __call__(
        self, message: Any, timeout: float | None, metadata: Any, options: Options
    ) -> tuple[Any, ReceivedPairs]:
        if options:
            if "compression" in options:
                return await self._public(message, timeout, metadata, options)
            credentials = options.get("credentials")
            wait_for_ready = options.get("wait_for_ready")
        else:
            credentials = wait_for_ready = None
        call = self._channel.call(
            self._method,
            None if timeout is None else time.time() + timeout,
            credentials,
            wait_for_ready,
            self._handle,
        )
        in_flight = _CallInFlight(call)
        active = self._active_calls
        active.add(in_flight)
        internals = self._internals
        try:
            serialized = await call.unary_unary(
                self._serialize(message), metadata, internals.census_context()
            )
        except BaseException:  # our task was cancelled, or the coroutine closed: end the RPC
            if not call.done():
                call.cancel(internals.cancelled_details)
            raise
        finally:
            active.discard(in_flight)
        if serialized is None:
            if call.is_locally_cancelled():
                raise asyncio.CancelledError
            raise internals.rpc_error(call._initial_metadata, call._status)
        try:
            reply = self._deserialize(serialized)
        except Exception:  # grpc.aio answers None too, and the caller reports it
            reply = None
        return reply, (call._initial_metadata, call._status.trailing_metadata())


class _AioStreamInternals:
    """What :class:`AioStreamReader` reads of grpc.aio's stream calls, found once."""

    __slots__ = ("call_classes", "end_of_stream")

    def __init__(self) -> None:
        from grpc._cython import cygrpc  # noqa: PLC0415
        from grpc.aio import _call  # noqa: PLC0415

        read = _call._StreamResponseMixin._read
        if not {"_preparation", "_cython_call", "receive_serialized_message"} <= set(
            read.__code__.co_names
        ) or not callable(getattr(_call.Call, "_raise_for_status", None)):
            raise AttributeError("grpc.aio's stream reading changed")
        self.call_classes: tuple[type, ...] = (_call.UnaryStreamCall, _call.StreamStreamCall)
        self.end_of_stream: object = cygrpc.EOF


@functools.cache
def _aio_stream_internals() -> _AioStreamInternals | None:
    try:
        return _AioStreamInternals()
    except (ImportError, AttributeError):
        return None


class AioStreamReader:
    """Awaits a grpc.aio stream's next message from its Cython call, as grpc.aio's ``_read`` does.

    ``async for`` over a grpc.aio call resumes an async generator that awaits
    ``_read()``, which deserializes through two more helpers: three frames per
    message that this reader does not need (issue 16: a stream through
    protoreq costs no more per message than the raw stub). It keeps what they
    do: the request is sent first, a cancelled read cancels the call, and the
    end of the stream raises the call's status (``AioRpcError``, or
    ``CancelledError`` after a local cancel) or ``StopAsyncIteration``.
    """

    __slots__ = ("_call", "_cython_call", "_deserialize", "_end", "_sent")

    def __init__(self, call: Any, end_of_stream: object) -> None:
        self._call = call
        self._cython_call = call._cython_call
        self._deserialize: Callable[[bytes], Any] = call._response_deserializer
        self._end = end_of_stream
        self._sent = False

    async def __call__(self) -> Any:
        call = self._call
        if not self._sent:
            await call._preparation  # the request (or the stream's start) goes out first
            self._sent = True
        try:
            serialized = await self._cython_call.receive_serialized_message()
        except asyncio.CancelledError:
            if not call.cancelled():
                call.cancel()
            raise
        if serialized is self._end:
            await call._raise_for_status()
            raise StopAsyncIteration
        try:
            return self._deserialize(serialized)
        except Exception:  # grpc.aio hands out None too
            return None


def next_message_step_async(call: Any) -> Callable[[], Awaitable[Any]]:
    """What an async stream awaits for each message: :class:`AioStreamReader` on grpc.aio's own
    stream calls, else the call's async iterator (an intercepted or scripted call)."""
    internals = _aio_stream_internals()
    if internals is not None and type(call) in internals.call_classes:
        return AioStreamReader(call, internals.end_of_stream)
    step: Callable[[], Awaitable[Any]] = call.__aiter__().__anext__
    return step


def aio_unary_unary(multicallable: Any) -> AioUnaryUnary | PublicAioUnaryUnary:
    """The fast or the public caller for a grpc.aio unary multicallable, chosen once."""
    if (
        aio_fast_path_holds()
        and type(multicallable) is _aio_internals().multicallable_class
        and not multicallable._interceptors
        and isinstance(getattr(multicallable._python_channel, "_active_calls", None), MutableSet)
    ):
        return AioUnaryUnary(multicallable)
    return PublicAioUnaryUnary(multicallable)


_COMPRESSION_REQUEST_KEY: Final = "grpc-internal-encoding-request"
"""grpc core's key for "compress this call's messages with" (``GRPC_COMPRESSION_REQUEST_
ALGORITHM_MD_KEY`` in its public headers); core reads it and never sends it."""
_ALGORITHM_NAMES: Final = {
    grpc.Compression.NoCompression: "identity",
    grpc.Compression.Deflate: "deflate",
    grpc.Compression.Gzip: "gzip",
}


def compression_in_metadata(metadata: Any, options: Options) -> tuple[Any, Options]:
    """``metadata`` and ``options`` with the ``compression`` keyword moved into the metadata.

    grpcio's sync ``StreamUnaryMultiCallable.future()`` computes the metadata
    that asks core to compress, then sends the caller's metadata instead: its
    client-streaming calls go out uncompressed. Handed the request key in the
    metadata itself, core compresses them (what ``with_call`` would ask for).
    """
    compression = options.get("compression")
    if compression is None:
        return metadata, options
    rest = {key: value for key, value in options.items() if key != "compression"}
    return (*(metadata or ()), (_COMPRESSION_REQUEST_KEY, _ALGORITHM_NAMES[compression])), rest


def finished_metadata(call: Any) -> ReceivedPairs | None:
    """The raw initial and trailing metadata of a finished grpc.aio call, without awaiting.

    ``None`` if grpcio no longer keeps them where its own ``__await__`` reads
    them (``_cython_call._initial_metadata`` and ``._status``): the caller then
    awaits the public methods.
    """
    try:
        cython_call = call._cython_call
        initial = cython_call._initial_metadata
        trailing = cython_call._status.trailing_metadata()
    except AttributeError:
        return None
    return None if initial is None else (initial, trailing)


async def finished_metadata_async(call: Any) -> Any:
    """:func:`finished_metadata`, or (other internals, a scripted call) the public awaits."""
    received = finished_metadata(call)
    if received is None:
        return (await call.initial_metadata(), await call.trailing_metadata())
    return received


def close_aio_channel_now(channel: Any) -> None:
    """Close a grpc.aio channel at once, from any thread, without running its event loop.

    For channels whose loop is closed or stopping, where grpc.aio's ``close()``
    coroutine can never run: its last step, the Cython channel's synchronous
    ``close()``, is what grpc.aio's own ``__del__`` calls too. Without those
    internals the reference is simply dropped and ``__del__`` does it later.
    """
    cython_channel = getattr(channel, "_channel", None)
    closed = getattr(cython_channel, "closed", None)
    close = getattr(cython_channel, "close", None)
    if callable(closed) and callable(close) and not closed():
        close()


def _closed_channel_errors() -> tuple[type[Exception], ...]:
    """What grpcio raises, instead of an ``RpcError``, for an RPC on a channel closed under it.

    Sync channels raise ``ValueError("Cannot invoke RPC: Channel closed!")``;
    grpc.aio raises ``UsageError("Channel is closed.")``, and a call whose
    channel was destroyed between its creation and its first batch raises
    ``ExecuteBatchError``. The client turns these into its own answers.
    """
    errors: list[type[Exception]] = [ValueError]
    try:
        cygrpc = importlib.import_module("grpc._cython.cygrpc")
        errors += [cygrpc.UsageError, cygrpc.ExecuteBatchError]
    except (ImportError, AttributeError):
        pass
    return tuple(errors)


CLOSED_CHANNEL_ERRORS: Final = _closed_channel_errors()


_READY: Final = grpc.ChannelConnectivity.READY.value[0]


def sync_channel_ready_now(channel: grpc.Channel, *, try_to_connect: bool = False) -> bool | None:
    """Whether a sync channel is connected right now, asked without subscribing.

    The public road, ``grpc.channel_ready_future``, reports states through a
    polling thread of grpcio's, which delays even a READY answer and raises in
    that thread when the channel closes meanwhile. ``try_to_connect`` starts a
    connection attempt on an idle channel. ``None`` when grpcio's internals
    changed (the caller then takes the public road); ``False`` once closed.
    """
    try:
        check = channel._channel.check_connectivity_state  # type: ignore[attr-defined]
    except AttributeError:
        return None
    try:
        return bool(check(try_to_connect) == _READY)
    except ValueError:  # the channel was closed
        return False
