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
  grpc.aio's own ``__await__`` does.

Both are feature-detected once, at import; if grpcio changes what they rely
on, the public APIs are used instead (tests/bench/test_fast_paths.py runs
both ways against a real server).

And both hold only for grpcio's own objects. An intercepted channel
(``grpc.intercept_channel``, or OpenTelemetry's instrumentation, which wraps
every channel grpcio opens) hands out multicallables of other classes, whose
calls may even be bare generators: :func:`on_public_road` looks at each
multicallable once, when the client makes it, and puts an adapter that takes
the public road in front of any that is not grpcio's own.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
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
