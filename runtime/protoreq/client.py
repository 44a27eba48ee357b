"""``GrpcClient``: sends request objects over reused channels, answers with ``GrpcResponse``.

One class serves sync and async callers (the original design calls both
``call()`` and ``await call_async()`` on the same client). Everything but the
waiting is shared through :mod:`protoreq.preparation`; this module only holds
channels and talks to grpcio.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

import grpc
from google.protobuf.message import Message

from protoreq._defaults import USE_CLIENT_DEFAULT, UseClientDefault
from protoreq._timeouts import bounded_or_none
from protoreq.channel import ChannelOption, ChannelSettings, as_options
from protoreq.credentials import TlsConfig, explain_connection_failure
from protoreq.errors import ClientClosedError
from protoreq.interceptors import InterceptorChain, grpc_interceptors
from protoreq.method import Cardinality, RpcMethod
from protoreq.preparation import CallDefaults, PreparedCall, prepare
from protoreq.request import (
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcRequest,
    ServerStreamingGrpcRequest,
)
from protoreq.response import GrpcResponse
from protoreq.retry import DEFAULT_RETRY_THROTTLE, RetryBudget, RetryPolicy, RetryThrottle
from protoreq.retrying import RetryLayer
from protoreq.sharing import SharedChannels
from protoreq.status import undecodable_reply
from protoreq.streaming import AsyncGrpcStream, GrpcStream
from protoreq.transport.fast_paths import finished_metadata, on_public_road, unary_call
from protoreq.transport.streams import (
    call_client_streaming,
    call_client_streaming_async,
    ended_stream,
    ended_stream_async,
    open_stream,
    open_stream_async,
)

if TYPE_CHECKING:
    from protoreq._health.health_pb2 import HealthCheckResponse

RespT = TypeVar("RespT", bound=Message)

_CLOSE_WAIT_SECONDS: Final = 5.0

_OK: Final = grpc.StatusCode.OK

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds a call may take when neither the request nor the client says otherwise."""

DEFAULT_RETRY: Final = RetryPolicy()
"""Applied by default only to RPCs the proto marks idempotent or free of side effects."""


class _Slot:
    """One open channel and the multicallables made on it, keyed by method path."""

    __slots__ = ("callables", "channel")

    def __init__(self, channel: grpc.Channel | grpc.aio.Channel) -> None:
        self.channel = channel
        self.callables: dict[str, dict[str, Any]] = {kind.value: {} for kind in Cardinality}
        """Per kind (``"unary_unary"``...), by method path: no key tuple to build per call."""

    def callable(self, kind: str, rpc: RpcMethod[Any, Any]) -> Any:
        """grpcio's multicallable for ``rpc``, made once per channel: making one costs a lookup.

        Made as grpc's generated stubs make theirs, as a registered method, so
        grpc core resolves the method path once per channel, not once per call.
        """
        made = self.callables[kind]
        found = made.get(rpc.path)
        if found is None:
            factory: Callable[..., Any] = getattr(self.channel, kind)
            found = factory(
                rpc.path,
                request_serializer=rpc.request_type.SerializeToString,
                response_deserializer=rpc.response_type.FromString,
                **_REGISTERED,
            )
            if not isinstance(self.channel, grpc.aio.Channel):  # aio interceptors keep its types
                found = on_public_road(kind, found)
            made[rpc.path] = found
        return found


def _registered_method_keyword() -> dict[str, bool]:
    """``_registered_method=True`` where this grpcio takes it (generated stubs pass it too)."""
    parameters = inspect.signature(grpc.Channel.unary_unary).parameters
    return {"_registered_method": True} if "_registered_method" in parameters else {}


_REGISTERED: Final = _registered_method_keyword()


_SHARED_CHANNELS: Final = SharedChannels[list[_Slot]]()
"""Channels of clients made with ``share_channels=True``; see :mod:`protoreq.sharing`."""


class GrpcClient:
    """A client for one target; safe to share between threads and between event loops.

    Channels open on first use and are reused by every call: ``pool_size``
    channels for sync calls, and as many per event loop for async calls
    (grpc.aio channels belong to the loop that made them). Close the client
    with ``close()``/``aclose()`` or use it as a (async) context manager.

    Connections: each of the ``pool_size`` channels has a TCP connection of its
    own (calls go round robin over them), and a client never shares them with
    another client unless both say ``share_channels=True`` and have equal channel
    settings; then the channels close when the last of those clients closes.

    ``target`` is anything grpcio resolves: ``host:port``, ``dns:///host:port``,
    ``ipv4:10.0.0.1:50051,10.0.0.2:50051`` (spread with ``load_balancing=
    "round_robin"``), ``unix:/path``, or ``xds:///name`` with a control plane.

    Resilience and security keywords (see :mod:`protoreq.retry`,
    :mod:`protoreq.credentials`): ``retry`` is the default policy for RPCs the
    proto marks idempotent; ``retry_throttle`` the gRFC A6 budget shared by this
    client's sync and async calls (``None``: unlimited); ``tls`` a
    :class:`TlsConfig` (or raw ``credentials``); ``call_credentials`` per-call
    credentials such as :func:`token_call_credentials`; ``compression`` the
    default for every call, which a request's ``compression()`` can override.
    ``log_payloads=False`` keeps this client's messages out of the DEBUG payload
    log (for services whose .proto marks no field ``debug_redact``).
    """

    def __init__(
        self,
        target: str,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        retry_throttle: RetryThrottle | None = DEFAULT_RETRY_THROTTLE,
        pool_size: int = 1,
        share_channels: bool = False,
        tls: TlsConfig | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        call_credentials: grpc.CallCredentials | None = None,
        max_send_message_length: int | None = None,
        max_receive_message_length: int | None = None,
        keepalive_time: float | None = None,
        keepalive_timeout: float | None = None,
        keepalive_permit_without_calls: bool = False,
        compression: grpc.Compression | None = None,
        wait_for_ready: bool | None = None,
        load_balancing: str | None = None,
        ssl_target_name_override: str | None = None,
        options: Sequence[ChannelOption] = (),
        interceptors: Sequence[object] = (),
        log_payloads: bool = True,
    ) -> None:
        if not target:
            raise ValueError("GrpcClient needs a target such as 'localhost:50051'")
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}")
        if timeout is not None and not timeout > 0:  # nan too
            raise ValueError(f"timeout must be positive or None (no deadline), got {timeout}")
        timeout = bounded_or_none(timeout)  # inf (or ~31 years and more): no deadline
        own, grpc_sync, grpc_aio = grpc_interceptors(interceptors)
        self._settings = ChannelSettings(
            target=target,
            credentials=credentials,
            tls=tls,
            max_send_message_length=max_send_message_length,
            max_receive_message_length=max_receive_message_length,
            keepalive_time=keepalive_time,
            keepalive_timeout=keepalive_timeout,
            keepalive_permit_without_calls=keepalive_permit_without_calls,
            load_balancing=load_balancing,
            ssl_target_name_override=ssl_target_name_override,
            extra_options=as_options(options),
            interceptors=grpc_sync,
            aio_interceptors=grpc_aio,
        )
        if call_credentials is not None and not self._settings.secure:
            raise ValueError(
                "call_credentials need a secure channel: gRPC never sends them in plaintext; "
                "pass tls=TlsConfig(...) or credentials= (grpc.local_channel_credentials() "
                "for a local server)"
            )
        self._defaults = CallDefaults(
            target=target,
            timeout=timeout,
            retry=retry,
            log_payloads=log_payloads,
            explain=self._explainer(),
        )
        self._retry_budget = None if retry_throttle is None else RetryBudget(retry_throttle)
        self._call_options: dict[str, Any] = {}
        if call_credentials is not None:
            self._call_options["credentials"] = call_credentials
        if wait_for_ready is not None:
            self._call_options["wait_for_ready"] = wait_for_ready
        if compression is not None:
            self._call_options["compression"] = compression
        self._share_channels = share_channels
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self._closed = False
        self._sync_slots: list[_Slot] = []
        self._async_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_Slot]] = (
            weakref.WeakKeyDictionary()
        )
        self._last_loop: tuple[weakref.ref[asyncio.AbstractEventLoop], list[_Slot]] | None = None
        """The loop of the latest async call and its channels, found without a weak-dict lookup."""
        self._turn = itertools.count()
        self._closing_tasks: set[asyncio.Task[None]] = set()
        self._compose_layers(InterceptorChain(own))

    def _compose_layers(self, chain: InterceptorChain) -> None:
        """interceptors ─▶ retry ─▶ attempt hooks ─▶ transport, composed once (see DESIGN.md).

        Without interceptors each layer is the next one's bound method: no calls are added.
        """
        self._chain = chain
        retrying = RetryLayer(
            chain.attempt(self._attempt_sync),
            chain.attempt_async(self._attempt_async),
            self._retry_budget,
        )
        self._retrying = retrying
        self._send = chain.unary(retrying.send)
        self._send_async = chain.unary_async(retrying.send_async)
        self._open_stream = chain.stream(self._open_stream_sync)
        self._open_stream_async = chain.stream_async(self._open_stream_on_loop)

    @property
    def target(self) -> str:
        return self._settings.target

    @property
    def retry_budget(self) -> RetryBudget | None:
        """This client's retry token bucket (``None`` when ``retry_throttle=None``)."""
        return self._retry_budget

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        shared = ", shared channels" if self._share_channels else ""
        return (
            f"GrpcClient({self._settings.target!r}, timeout={self._defaults.timeout}, "
            f"retry={self._defaults.retry!r}, pool_size={self._pool_size}{shared}, "
            f"secure={self._settings.secure}, {state})"
        )

    # -- calls ------------------------------------------------------------------------------

    def call(
        self, request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
    ) -> GrpcResponse[RespT]:
        """Send a unary (or client-streaming) request and wait for its outcome.

        RPC failures come back as an unsuccessful response, never as exceptions.
        """
        if self._closed:
            self._check_open()
        prepared = prepare(request, self._defaults, streaming_response=False)
        if type(prepared) is not PreparedCall:
            return prepared  # type: ignore[return-value]  # the already expired deadline
        return self._send(prepared)

    async def call_async(
        self, request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
    ) -> GrpcResponse[RespT]:
        """``call()`` for asyncio code; cancelling the awaiting task cancels the RPC.

        The unary attempt is spelled out here rather than in a helper coroutine:
        one await per attempt, on grpcio's call, and no coroutine of ours around it.
        """
        if self._closed:
            self._check_open()
        prepared = prepare(request, self._defaults, streaming_response=False)
        if type(prepared) is not PreparedCall:
            return prepared  # type: ignore[return-value]
        return await self._send_async(prepared)

    def stream(
        self, request: ServerStreamingGrpcRequest[Any, RespT] | BidiStreamingGrpcRequest[Any, RespT]
    ) -> GrpcStream[RespT]:
        """Start a server-streaming or bidi call; iterate the returned stream with ``for``.

        Iteration ends (it does not raise) when the RPC fails; the stream's
        ``is_success()`` / ``status_code()`` then tell how it ended. Streams are
        never retried. A bidi request's ``messages()`` is pulled by a grpcio
        thread while you iterate, so it may block waiting on your answers.
        """
        self._check_open()
        prepared = prepare(request, self._defaults, streaming_response=True)
        if isinstance(prepared, GrpcResponse):
            return ended_stream(prepared)
        return self._open_stream(prepared)

    def stream_async(
        self, request: ServerStreamingGrpcRequest[Any, RespT] | BidiStreamingGrpcRequest[Any, RespT]
    ) -> AsyncGrpcStream[RespT]:
        """``stream()`` for asyncio code: returns at once (call it in a coroutine); ``async for``.

        A bidi request's ``messages()`` may be an async iterable; a task of the
        stream sends it while you iterate.
        """
        self._check_open()
        prepared = prepare(request, self._defaults, streaming_response=True)
        if isinstance(prepared, GrpcResponse):
            return ended_stream_async(prepared)
        return self._open_stream_async(prepared)

    # -- health (grpc.health.v1; the logic lives in protoreq.health) ------------------------

    def check_health(
        self, service: str = "", *, timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT
    ) -> GrpcResponse[HealthCheckResponse]:
        """``Health/Check`` for ``service`` ("": the whole server); the answer's ``status``."""
        from protoreq import health  # noqa: PLC0415  # imported by its first user only

        return health.check_health(self, service, timeout=timeout)

    async def check_health_async(
        self, service: str = "", *, timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT
    ) -> GrpcResponse[HealthCheckResponse]:
        """``check_health()`` for asyncio code."""
        from protoreq import health  # noqa: PLC0415

        return await health.check_health_async(self, service, timeout=timeout)

    def wait_until_serving(self, service: str = "", *, timeout: float) -> bool:
        """Check health until SERVING (``True``) or ``timeout`` seconds have passed (``False``)."""
        from protoreq import health  # noqa: PLC0415

        return health.wait_until_serving(self, service, timeout=timeout)

    async def wait_until_serving_async(self, service: str = "", *, timeout: float) -> bool:
        """``wait_until_serving()`` for asyncio code."""
        from protoreq import health  # noqa: PLC0415

        return await health.wait_until_serving_async(self, service, timeout=timeout)

    def _attempt_options(self, prepared: PreparedCall) -> dict[str, Any]:
        """Per-call grpcio keywords: the client's, and the request's compression if it chose one."""
        if prepared.compression is None:
            return self._call_options
        return {**self._call_options, "compression": prepared.compression}

    def _explainer(self) -> Callable[[str], str] | None:
        """How UNAVAILABLE details get a hint naming the likely TLS setting (secure channels)."""
        if not self._settings.secure:
            return None
        tls = self._settings.tls
        return lambda details: explain_connection_failure(details, tls, secure=True)

    def _failed(self, prepared: PreparedCall, error: grpc.RpcError) -> GrpcResponse[Any]:
        """A failed response (a refused TLS handshake gets its hint in ``prepared.failed``)."""
        return prepared.failed(error)

    def _attempt_sync(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        slots = self._sync_slots
        slot = slots[0] if slots and self._pool_size == 1 else self._sync_slot()
        if prepared.message is None:
            return self._client_streaming_sync(slot, prepared)
        rpc = prepared.rpc
        multicallable = slot.callables["unary_unary"].get(rpc.path) or slot.callable(
            "unary_unary", rpc
        )
        deadline = prepared.deadline
        try:
            reply, received = unary_call(
                multicallable,
                prepared.message,
                None if deadline is None else deadline - time.monotonic(),
                prepared.metadata,
                self._call_options
                if prepared.compression is None
                else self._attempt_options(prepared),
            )
        except grpc.RpcError as error:
            return self._failed(prepared, error)
        return prepared.answered(reply, received)

    def _start_unary_async(self, prepared: PreparedCall) -> Any:
        """Start one unary attempt on the running loop's channel; ``call_async`` awaits it."""
        slot = self._async_slot()
        rpc = prepared.rpc
        multicallable = slot.callables["unary_unary"].get(rpc.path) or slot.callable(
            "unary_unary", rpc
        )
        deadline = prepared.deadline
        return multicallable(
            prepared.message,
            timeout=None if deadline is None else deadline - time.monotonic(),
            metadata=prepared.metadata,
            **self._attempt_options(prepared),
        )

    async def _attempt_async(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        """One unary (or client-streaming) attempt on the running loop's channel."""
        if prepared.message is None:
            return await self._client_streaming_async(self._async_slot(), prepared)
        call = self._start_unary_async(prepared)
        try:
            reply = await call
            received = finished_metadata(call)
            if received is None:  # grpcio changed its internals: ask the public way
                received = (await call.initial_metadata(), await call.trailing_metadata())
        except grpc.RpcError as error:
            return self._failed(prepared, error)
        except asyncio.CancelledError:
            if _task_is_cancelled():
                raise  # our caller cancelled us: the RPC is already cancelled with it
            return prepared.cancelled_locally()
        if reply is None:  # grpc.aio's answer to a reply that did not parse
            return prepared.failed(undecodable_reply(*received))
        return prepared.answered(reply, received)

    def _open_stream_sync(self, prepared: PreparedCall) -> GrpcStream[Any]:
        prepared.attempt = 1  # a stream is sent once
        if self._chain.attempt_hooks:
            self._chain.stream_attempt(prepared)
        multicallable = self._sync_slot().callable(prepared.rpc.cardinality.value, prepared.rpc)
        return open_stream(multicallable, prepared, self._attempt_options(prepared))

    def _open_stream_on_loop(self, prepared: PreparedCall) -> AsyncGrpcStream[Any]:
        prepared.attempt = 1  # a stream is sent once
        if self._chain.attempt_hooks:
            self._chain.stream_attempt(prepared)
        multicallable = self._async_slot().callable(prepared.rpc.cardinality.value, prepared.rpc)
        return open_stream_async(multicallable, prepared, self._attempt_options(prepared))

    def _client_streaming_sync(self, slot: _Slot, prepared: PreparedCall) -> GrpcResponse[Any]:
        multicallable = slot.callable("stream_unary", prepared.rpc)
        return call_client_streaming(multicallable, prepared, self._attempt_options(prepared))

    async def _client_streaming_async(
        self, slot: _Slot, prepared: PreparedCall
    ) -> GrpcResponse[Any]:
        multicallable = slot.callable("stream_unary", prepared.rpc)
        options = self._attempt_options(prepared)
        return await call_client_streaming_async(multicallable, prepared, options)

    # -- channels ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError(f"GrpcClient({self._settings.target!r}) is closed")

    def _pick(self, slots: list[_Slot]) -> _Slot:
        if self._pool_size == 1:
            return slots[0]
        return slots[next(self._turn) % self._pool_size]

    def _open_slots(self, loop: asyncio.AbstractEventLoop | None) -> list[_Slot]:
        """``pool_size`` channels (each its own connection) for sync calls or for ``loop``.

        With ``share_channels`` they come from the process-wide registry, keyed by
        everything that shapes a channel; called under ``self._lock``.
        """

        def open_channels() -> list[_Slot]:
            opener = self._settings.open_sync if loop is None else self._settings.open_async
            return [_Slot(opener()) for _ in range(self._pool_size)]

        if not self._share_channels:
            return open_channels()
        return _SHARED_CHANNELS.acquire(self._shared_key(loop), open_channels)

    def _shared_key(self, loop: asyncio.AbstractEventLoop | None) -> tuple[object, ...]:
        return (self._settings, self._pool_size, loop)

    def _release_slots(
        self, loop: asyncio.AbstractEventLoop | None, slots: list[_Slot]
    ) -> list[_Slot]:
        """The slots this client must close: its own, or shared ones it was the last to hold."""
        if not self._share_channels or not slots:
            return slots
        return _SHARED_CHANNELS.release(self._shared_key(loop)) or []

    def _sync_slot(self) -> _Slot:
        slots = self._sync_slots
        if slots and self._pool_size == 1:
            return slots[0]
        if not slots:
            with self._lock:
                self._check_open()
                if not self._sync_slots:
                    self._sync_slots = self._open_slots(None)
                slots = self._sync_slots
        return self._pick(slots)

    def _async_slot(self) -> _Slot:
        loop = asyncio.get_running_loop()
        last = self._last_loop  # usually the loop of the previous call: no weak-dict lookup
        slots = last[1] if last is not None and last[0]() is loop else self._loop_slots(loop)
        return slots[0] if self._pool_size == 1 else self._pick(slots)

    def _loop_slots(self, loop: asyncio.AbstractEventLoop) -> list[_Slot]:
        """The channels of ``loop``, opened on first use; remembered as the last loop's."""
        slots = self._async_slots.get(loop)
        if slots is None:
            with self._lock:
                self._check_open()
                slots = self._async_slots.get(loop)
                if slots is None:
                    slots = self._open_slots(loop)
                    self._async_slots[loop] = slots
        # A weak reference: the client must not keep a finished loop (or its channels) alive.
        self._last_loop = (weakref.ref(loop), slots)
        return slots

    def _take_channels(self) -> tuple[list[_Slot], list[tuple[asyncio.AbstractEventLoop, _Slot]]]:
        """Mark closed and hand over the channels to close (shared ones only when unused)."""
        with self._lock:
            self._closed = True
            sync_slots = self._release_slots(None, self._sync_slots)
            self._sync_slots = []
            async_slots = [
                (loop, slot)
                for loop, slots in self._async_slots.items()
                for slot in self._release_slots(loop, slots)
            ]
            self._async_slots.clear()
            self._last_loop = None
        return sync_slots, async_slots

    # -- closing ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close every channel; later calls raise :class:`ClientClosedError`.

        Safe to call from async code too (the original design does, in a
        ``finally``): async channels are closed on their own loop.
        """
        sync_slots, async_slots = self._take_channels()
        for slot in sync_slots:
            slot.channel.close()
        for loop, slot in async_slots:
            self._close_on_loop(loop, slot)

    async def aclose(self) -> None:
        """Close every channel, awaiting those of the running loop."""
        sync_slots, async_slots = self._take_channels()
        for slot in sync_slots:
            slot.channel.close()
        running = asyncio.get_running_loop()
        for loop, slot in async_slots:
            if loop is running:
                await _close_async(slot)
            else:
                self._close_on_loop(loop, slot)

    def _close_on_loop(self, loop: asyncio.AbstractEventLoop, slot: _Slot) -> None:
        if loop.is_closed():
            return  # the loop took its channels' connections down with it
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task = loop.create_task(_close_async(slot))
            self._closing_tasks.add(task)
            task.add_done_callback(self._closing_tasks.discard)
        elif loop.is_running():
            # The loop runs in another thread: close there and wait, as a sync close() should.
            done = asyncio.run_coroutine_threadsafe(_close_async(slot), loop)
            with contextlib.suppress(Exception):
                done.result(_CLOSE_WAIT_SECONDS)
        else:
            loop.run_until_complete(_close_async(slot))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _task_is_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def _close_async(slot: _Slot) -> None:
    channel = slot.channel
    assert isinstance(channel, grpc.aio.Channel)
    await channel.close()
