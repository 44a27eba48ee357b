"""``GrpcClient``: sends request objects through its layers, answers with ``GrpcResponse``.

One class serves sync and async callers (the original design calls both
``call()`` and ``await call_async()`` on the same client). The client checks
its settings and composes the call path once (see DESIGN.md, "The call path,
in layers"): :mod:`protoreq.preparation` ▶ :mod:`protoreq.interceptors` ▶
:mod:`protoreq.retrying` ▶ :mod:`protoreq.transport`, the only code that talks
to grpcio. Sync and async share everything but the waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

import grpc
from google.protobuf.message import Message

from protoreq._defaults import USE_CLIENT_DEFAULT, UseClientDefault
from protoreq._timeouts import bounded_or_none
from protoreq.channel import ChannelOption, ChannelSettings, as_options
from protoreq.credentials import TlsConfig, explain_connection_failure
from protoreq.generated import GeneratedPaginatedGrpcRequest as PaginatedRequest
from protoreq.hedging import HedgingLayer, HedgingPolicy
from protoreq.interceptors import InterceptorChain, grpc_interceptors
from protoreq.operations import (
    DEFAULT_POLL,
    MetaT,
    OperationTypes,
    OperationWaiter,
    PollPolicy,
    ResultT,
)
from protoreq.outliers import OutlierEjection
from protoreq.pagination import AsyncPager, ItemT, Pager
from protoreq.preparation import CallDefaults, PreparedCall, prepare
from protoreq.request import (
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcRequest,
    ServerStreamingGrpcRequest,
)
from protoreq.resolvers import Resolver, resolver_for
from protoreq.response import GrpcResponse
from protoreq.retry import DEFAULT_RETRY_THROTTLE, RetryBudget, RetryPolicy, RetryThrottle
from protoreq.retrying import RetryLayer
from protoreq.streaming import AsyncGrpcStream, GrpcStream
from protoreq.transport.calls import Transport
from protoreq.transport.channels import ChannelPool
from protoreq.transport.endpoints import EndpointSet, EndpointTransport
from protoreq.transport.streams import ended_stream, ended_stream_async

if TYPE_CHECKING:
    from protoreq._health.health_pb2 import HealthCheckResponse

RespT = TypeVar("RespT", bound=Message)

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds a call may take when neither the request nor the client says otherwise."""

DEFAULT_RETRY: Final = RetryPolicy()
"""Applied by default only to RPCs the proto marks idempotent or free of side effects."""


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
    ``hedging`` a :class:`HedgingPolicy` for the RPCs the proto marks idempotent
    (they are then hedged instead of retried: see :mod:`protoreq.hedging`).
    ``log_payloads=False`` keeps this client's messages out of the DEBUG payload
    log (for services whose .proto marks no field ``debug_redact``).

    Endpoints found by protoreq (see :mod:`protoreq.resolvers`): grpcio cannot
    take addresses found at run time, so with ``resolve_every=`` (seconds; a
    ``dns:///host:port`` target re-resolved that often), ``resolver=`` (your
    own, or a live registry's) or ``outlier_ejection=`` (an
    :class:`OutlierEjection`; ``dns:`` targets and ``ipv4:``/``ipv6:`` lists)
    protoreq balances calls itself over one channel set per address
    (``pool_size`` each), ``round_robin`` unless ``load_balancing="pick_first"``.
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
        hedging: HedgingPolicy | None = None,
        resolve_every: float | None = None,
        resolver: Resolver | None = None,
        outlier_ejection: OutlierEjection | None = None,
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
        if self._settings.grpc_retries and retry is not None:
            raise ValueError(
                "options turn on grpcio's own retries (grpc.enable_retries=1): pass retry=None "
                "so that protoreq does not retry too (the attempts would multiply)"
            )
        if self._settings.grpc_retries and hedging is not None:
            raise ValueError(
                "options turn on grpcio's own retries (grpc.enable_retries=1): a call is "
                "either hedged or retried, so pass hedging=None or leave grpcio's retries off"
            )
        if hedging is not None and not isinstance(hedging, HedgingPolicy):
            raise TypeError(f"hedging must be a HedgingPolicy, got {type(hedging).__name__}")
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
            hedging=hedging,
        )
        self._retry_budget = None if retry_throttle is None else RetryBudget(retry_throttle)
        call_options: dict[str, Any] = {}
        if call_credentials is not None:
            call_options["credentials"] = call_credentials
        if wait_for_ready is not None:
            call_options["wait_for_ready"] = wait_for_ready
        if compression is not None:
            call_options["compression"] = compression
        found_by = resolver_for(
            target,
            resolver=resolver,
            resolve_every=resolve_every,
            outlier_ejection=outlier_ejection,
        )
        self._channels: ChannelPool | EndpointSet
        self._transport: Transport | EndpointTransport
        if found_by is None:  # grpcio resolves and balances: the ordinary client
            self._channels = ChannelPool(self._settings, pool_size=pool_size, share=share_channels)
            self._transport = Transport(self._channels, call_options)
        else:  # protoreq follows the endpoints: see protoreq.transport.endpoints
            self._channels = EndpointSet(
                self._settings,
                found_by,
                pool_size=pool_size,
                share=share_channels,
                call_options=call_options,
                ejection=outlier_ejection,
            )
            self._transport = EndpointTransport(self._channels, call_options)
        self._compose_layers(
            InterceptorChain(own), waits_for_connection=wait_for_ready is not False
        )

    def _compose_layers(self, chain: InterceptorChain, *, waits_for_connection: bool) -> None:
        """interceptors ─▶ retry │ hedging ─▶ attempt hooks ─▶ transport, composed once.

        Without interceptors each layer is the next one's bound method: no calls are added
        (see DESIGN.md). A retry waits (within the deadline) for the channel to reconnect
        first, so a server restarting on its address costs a caller time, not its call.
        Hedged calls (``prepared.hedging``) take the hedging layer, whose overlapping
        attempts run the attempt hooks themselves.
        """
        transport = self._transport
        channels = self._channels
        retrying = RetryLayer(
            chain.attempt(transport.attempt),
            chain.attempt_async(transport.attempt_async),
            budget=self._retry_budget,
            connectivity=transport,
            closed=lambda: channels.closed,
            waits_for_connection=waits_for_connection,
        )
        hedging = HedgingLayer(
            transport.start_attempt,
            transport.attempt_async,
            hooks=chain,
            budget=self._retry_budget,
            closed=lambda: channels.closed,
        )
        self._send = chain.unary(retrying.send)
        self._send_async = chain.unary_async(retrying.send_async)
        self._send_hedged = chain.unary(hedging.send)
        self._send_hedged_async = chain.unary_async(hedging.send_async)
        self._open_stream = chain.stream(chain.stream_attempt(transport.open_stream))
        self._open_stream_async = chain.stream_async(
            chain.stream_attempt(transport.open_stream_async)
        )

    @property
    def target(self) -> str:
        return self._settings.target

    @property
    def retry_budget(self) -> RetryBudget | None:
        """This client's retry token bucket (``None`` when ``retry_throttle=None``)."""
        return self._retry_budget

    def __repr__(self) -> str:
        channels = self._channels
        state = "closed" if channels.closed else "open"
        shared = ", shared channels" if channels.share else ""
        hedged = "" if self._defaults.hedging is None else f", hedging={self._defaults.hedging!r}"
        return (
            f"GrpcClient({self._settings.target!r}, timeout={self._defaults.timeout}, "
            f"retry={self._defaults.retry!r}{hedged}, pool_size={channels.pool_size}{shared}, "
            f"secure={self._settings.secure}, {state})"
        )

    # -- calls ------------------------------------------------------------------------------

    def call(
        self, request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
    ) -> GrpcResponse[RespT]:
        """Send a unary (or client-streaming) request and wait for its outcome.

        RPC failures come back as an unsuccessful response, never as exceptions.
        """
        if self._channels.closed:
            self._channels.check_open()
        prepared = prepare(request, self._defaults, streaming_response=False)
        if type(prepared) is not PreparedCall:
            return prepared  # type: ignore[return-value]  # the already expired deadline
        if prepared.hedging is not None:
            return self._send_hedged(prepared)
        return self._send(prepared)

    async def call_async(
        self, request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
    ) -> GrpcResponse[RespT]:
        """``call()`` for asyncio code; cancelling the awaiting task cancels the RPC.

        The unary attempt is spelled out here rather than in a helper coroutine:
        one await per attempt, on grpcio's call, and no coroutine of ours around it.
        """
        if self._channels.closed:
            self._channels.check_open()
        prepared = prepare(request, self._defaults, streaming_response=False)
        if type(prepared) is not PreparedCall:
            return prepared  # type: ignore[return-value]
        if prepared.hedging is not None:
            return await self._send_hedged_async(prepared)
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
        self._channels.check_open()
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
        self._channels.check_open()
        prepared = prepare(request, self._defaults, streaming_response=True)
        if isinstance(prepared, GrpcResponse):
            return ended_stream_async(prepared)
        return self._open_stream_async(prepared)

    def paginate(self, request: PaginatedRequest[Any, RespT, ItemT]) -> Pager[RespT, ItemT]:
        """Every result of an AIP-158 list method, page after page: see :class:`Pager`."""
        return Pager(self, request)

    def paginate_async(
        self, request: PaginatedRequest[Any, RespT, ItemT]
    ) -> AsyncPager[RespT, ItemT]:
        """``paginate()`` for ``async for``: see :class:`AsyncPager`."""
        return AsyncPager(self, request)

    def wait(
        self,
        started: GrpcResponse[Any] | Message,
        types: OperationTypes[ResultT, MetaT],
        *,
        timeout: float | None = None,
        poll: PollPolicy = DEFAULT_POLL,
    ) -> GrpcResponse[ResultT]:
        """Poll a long-running operation until done: see :class:`OperationWaiter`."""
        return OperationWaiter(self, started, types).wait(timeout=timeout, poll=poll)

    async def wait_async(
        self,
        started: GrpcResponse[Any] | Message,
        types: OperationTypes[ResultT, MetaT],
        *,
        timeout: float | None = None,
        poll: PollPolicy = DEFAULT_POLL,
    ) -> GrpcResponse[ResultT]:
        """``wait()`` for asyncio code."""
        return await OperationWaiter(self, started, types).wait_async(timeout=timeout, poll=poll)

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

    def _explainer(self) -> Callable[[str], str] | None:
        """How UNAVAILABLE details get a hint naming the likely TLS setting (secure channels)."""
        if not self._settings.secure:
            return None
        tls = self._settings.tls
        return lambda details: explain_connection_failure(details, tls, secure=True)

    # -- closing ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close every channel; later calls raise :class:`ClientClosedError`.

        Safe to call from async code too (the original design does, in a
        ``finally``): async channels are closed on their own loop. A call in
        its retry backoff answers with its last outcome.
        """
        self._channels.close()

    async def aclose(self) -> None:
        """Close every channel, awaiting those of the running loop."""
        await self._channels.aclose()

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
