"""protoreq's own load balancing: calls spread over endpoints that a resolver finds at run time.

grpcio cannot take addresses discovered at run time (no resolver API in
Python), so where the endpoints come from protoreq (a live registry, DNS
re-resolution, an explicit list with outlier ejection; see
:mod:`protoreq.resolvers`) each address gets a :class:`ChannelPool` and a
:class:`Transport` of its own, and :class:`EndpointTransport` picks one per
call. It has :class:`Transport`'s surface, so the client composes it where a
``Transport`` goes and ordinary clients pay nothing for it.

Endpoint lifecycle: :meth:`EndpointSet.update` (from a resolver's thread) adds
endpoints at once and retires those gone. A retired endpoint gets no new
call; its calls and streams in flight run to their end, and its channels
close when the last one ends (or when the client closes).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Final

import grpc

from protoreq.channel import ChannelSettings
from protoreq.errors import ClientClosedError
from protoreq.outliers import EndpointHealth, OutlierEjection
from protoreq.preparation import PreparedCall
from protoreq.resolvers import Resolver, Subscription, authority_of, joined
from protoreq.response import GrpcResponse
from protoreq.streaming import AsyncGrpcStream, GrpcStream
from protoreq.transport.calls import CallOptions, Transport, nothing_to_cancel
from protoreq.transport.channels import ChannelPool
from protoreq.transport.fast_paths import sync_channel_ready_now
from protoreq.transport.streams import ended_stream, ended_stream_async

_logger: Final = logging.getLogger("protoreq")

ROUND_ROBIN: Final = "round_robin"
PICK_FIRST: Final = "pick_first"
_POLL_SECONDS: Final = 0.01
"""How often a wait for an endpoint (or a connection) looks again."""
_FIRST_RESOLUTION_WAIT: Final = 10.0
"""The longest a call without a deadline waits for a resolver's first answer."""
_READY: Final = grpc.ChannelConnectivity.READY
_UNAVAILABLE: Final = grpc.StatusCode.UNAVAILABLE
_OK: Final = grpc.StatusCode.OK


class Endpoint:
    """One address: its channels, its transport, its calls in flight and its health."""

    __slots__ = ("address", "channels", "health", "in_flight", "lock", "retired", "transport")

    def __init__(self, address: str, channels: ChannelPool, call_options: CallOptions) -> None:
        self.address = address
        self.channels = channels
        self.transport = Transport(channels, call_options)
        self.health = EndpointHealth()
        self.in_flight = 0
        self.retired = False
        self.lock = threading.Lock()

    def enter(self) -> bool:
        """Count a call starting here; ``False`` if the endpoint was retired meanwhile."""
        with self.lock:
            if self.retired:
                return False
            self.in_flight += 1
            return True

    def leave(self) -> bool:
        """Count a call ending here; ``True`` if it was the last one of a retired endpoint."""
        with self.lock:
            self.in_flight -= 1
            return self.retired and self.in_flight == 0

    def retire(self) -> bool:
        """No new calls from now on; ``True`` if none is in flight (close it now)."""
        with self.lock:
            self.retired = True
            return self.in_flight == 0

    def __repr__(self) -> str:
        return f"Endpoint({self.address!r}, in_flight={self.in_flight})"


class EndpointSet:
    """The live endpoints of one client target, fed by its resolver; what ``ChannelPool`` is
    to an ordinary client (``closed``, ``check_open``, ``close``, ``aclose``)."""

    def __init__(
        self,
        settings: ChannelSettings,
        resolver: Resolver,
        *,
        pool_size: int,
        share: bool,
        call_options: CallOptions,
        ejection: OutlierEjection | None,
    ) -> None:
        policy = settings.load_balancing or ROUND_ROBIN
        self.settings = settings
        self.name = settings.target
        self.pool_size = pool_size
        self.share = share
        self.pick_first = policy == PICK_FIRST
        self.ejection = ejection
        self.closed = False
        self._call_options = call_options
        self._endpoint_settings = _per_endpoint(settings, authority_of(resolver))
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._live: tuple[Endpoint, ...] = ()
        self._retiring: set[Endpoint] = set()
        self._resolved = False
        """Whether the resolver has answered once: before that, calls wait for it."""
        self._turn = itertools.count()
        self._first: Endpoint | None = None
        """pick_first's current endpoint: it moves on when a call there answers UNAVAILABLE."""
        self._ejecting = False
        """Whether some endpoint may be ejected now: only then does a pick look at the clock."""
        self._subscription: Subscription | None = None
        self._subscription = resolver.subscribe(self.update)

    # -- membership (resolver threads) --------------------------------------------------------

    def update(self, addresses: Iterable[str]) -> None:
        """Use exactly these ``host:port`` addresses from now on; thread-safe."""
        wanted = tuple(dict.fromkeys(a.strip() for a in addresses if a and a.strip()))
        with self._lock:
            if self.closed:
                return
            current = {endpoint.address: endpoint for endpoint in self._live}
            live = tuple(self._keep_or_open(current, address) for address in wanted)
            added = [e.address for e in live if e not in self._live]
            self._live = live
            self._resolved = True
            gone = list(current.values())
            for endpoint in gone:
                self._retiring.add(endpoint)
            self._changed.notify_all()
        if added or gone:
            _logger.info(
                "endpoints of %s: %s (added %s, removed %s)",
                self.name,
                joined(wanted),
                joined(added),
                joined([e.address for e in gone]),
            )
        for endpoint in gone:
            if endpoint.retire():
                self._close_retired(endpoint)

    def _keep_or_open(self, current: dict[str, Endpoint], address: str) -> Endpoint:
        kept = current.pop(address, None)
        return self._open(address) if kept is None else kept

    def _open(self, address: str) -> Endpoint:
        channels = ChannelPool(
            replace(self._endpoint_settings, target=address),
            pool_size=self.pool_size,
            share=self.share,
        )
        return Endpoint(address, channels, self._call_options)

    # -- picking (every call) -----------------------------------------------------------------

    def enter(self) -> Endpoint | None:
        """The endpoint for the next call, counted in flight; ``None``: there is none."""
        for _ in range(8):  # a retired pick is retried: update() raced with this call
            endpoint = self._pick()
            if endpoint is None or endpoint.enter():
                return endpoint
        return None

    def _pick(self) -> Endpoint | None:
        live = self._live
        if not live:
            return None
        if self._ejecting:
            live = self._available(live)
        if self.pick_first:
            first = self._first
            if first is None or first not in live:
                first = self._first = live[0]
            return first
        return live[next(self._turn) % len(live)]

    def _available(self, live: tuple[Endpoint, ...]) -> tuple[Endpoint, ...]:
        """The endpoints not ejected now; all of them if every one is (never none)."""
        now = time.monotonic()
        healthy = tuple(e for e in live if not e.health.is_ejected(now))
        if len(healthy) == len(live):
            with self._lock:
                self._ejecting = any(e.health.is_ejected(now) for e in self._live)
        return healthy or live

    def available(self) -> tuple[Endpoint, ...]:
        live = self._live
        return self._available(live) if self._ejecting and live else live

    async def enter_async(self, prepared: PreparedCall) -> Endpoint | None:
        """:meth:`enter`, waiting first (within the deadline) for the resolver's first answer."""
        endpoint = self.enter()
        if endpoint is not None or self._resolved:
            return endpoint
        until = time.monotonic() + _first_wait(prepared)
        while not self._resolved and not self.closed and time.monotonic() < until:
            await asyncio.sleep(_POLL_SECONDS)
        return self.enter()

    def enter_sync(self, prepared: PreparedCall) -> Endpoint | None:
        """:meth:`enter`, waiting first (within the deadline) for the resolver's first answer."""
        endpoint = self.enter()
        if endpoint is not None or self._resolved:
            return endpoint
        with self._changed:
            self._changed.wait_for(
                lambda: self._resolved or self.closed, timeout=_first_wait(prepared)
            )
        return self.enter()

    # -- outcomes -----------------------------------------------------------------------------

    def leave(self, endpoint: Endpoint, code: grpc.StatusCode | None) -> None:
        """A call on ``endpoint`` ended with ``code`` (``None``: it raised); may close it."""
        if code is not _OK or not endpoint.health.clean():
            self._record(endpoint, code)
        if endpoint.leave():
            self._close_retired(endpoint)

    def _record(self, endpoint: Endpoint, code: grpc.StatusCode | None) -> None:
        if code is None:
            return
        with self._lock:
            if not endpoint.health.record(code):
                return
            if self.pick_first and self._first is endpoint:
                self._first = self._next_after(endpoint)
            policy = self.ejection
            now = time.monotonic()
            health = endpoint.health
            if policy is None or health.is_ejected(now) or not health.due(policy):
                return
            if endpoint not in self._live:
                return  # retired: it gets no calls anyway
            others = [e for e in self._live if e is not endpoint]
            if all(e.health.is_ejected(now) for e in others):
                lifted = self._lift_ejections(others)
                seconds = None
            else:
                seconds = health.eject(policy, now)
                self._ejecting = True
        if seconds is not None:
            _logger.warning(
                "endpoint %s of %s ejected for %.3g s: its calls keep failing with UNAVAILABLE",
                endpoint.address,
                self.name,
                seconds,
            )
        elif lifted:
            _logger.warning(
                "every endpoint of %s fails with UNAVAILABLE: ejections lifted, calls go to all",
                self.name,
            )

    def _lift_ejections(self, ejected: list[Endpoint]) -> bool:
        """The last endpoint not ejected fails too: end every ejection rather than eject it.

        Calls then spread over all endpoints again, so the first one back (maybe one
        ejected long ago) takes them at once; the others stay on probation, and
        are ejected again, for longer, at their next failure. Called under the lock.
        """
        for endpoint in ejected:
            endpoint.health.ejected_until = 0.0
        self._ejecting = False
        return bool(ejected)

    def _next_after(self, endpoint: Endpoint) -> Endpoint | None:
        live = self._live
        if endpoint not in live or len(live) < 2:
            return None
        return live[(live.index(endpoint) + 1) % len(live)]

    def done_callback(self, endpoint: Endpoint) -> Release:
        """For a stream's (or a started attempt's) end: record its outcome, release its endpoint."""
        return Release(self, endpoint)

    def no_endpoint(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        """UNAVAILABLE, decided here: no address to send to (retryable, like grpcio's own)."""
        prepared.attempt = max(prepared.attempt, 1)
        if self.closed:  # close() came between the client's check and this attempt
            if prepared.attempt == 1:
                raise ClientClosedError(f"GrpcClient({self.name!r}) is closed")
            return prepared.cancelled_locally()
        why = "its resolver has found none" if self._resolved else "its resolver has not answered"
        return prepared.reject(_UNAVAILABLE, f"no live endpoint for {self.name} ({why})")

    # -- waiting, for the retry layer ---------------------------------------------------------

    def wait_for_endpoints(self, seconds: float) -> bool:
        with self._changed:
            return (
                self._changed.wait_for(lambda: bool(self._live) or self.closed, timeout=seconds)
                and not self.closed
            )

    async def wait_for_endpoints_async(self, seconds: float) -> bool:
        until = time.monotonic() + seconds
        while not self._live and not self.closed:
            left = until - time.monotonic()
            if left <= 0:
                return False
            await asyncio.sleep(min(_POLL_SECONDS, left))
        return not self.closed

    # -- closing ------------------------------------------------------------------------------

    def check_open(self) -> None:
        if self.closed:
            raise ClientClosedError(f"GrpcClient({self.name!r}) is closed")

    def _close_retired(self, endpoint: Endpoint) -> None:
        with self._lock:
            if endpoint not in self._retiring:
                return  # the client's close() has it
            self._retiring.discard(endpoint)
        endpoint.channels.close()

    def _take_all(self) -> list[Endpoint]:
        with self._lock:
            self.closed = True
            endpoints = [*self._live, *self._retiring]
            self._live = ()
            self._retiring.clear()
            subscription, self._subscription = self._subscription, None
            self._changed.notify_all()
        if subscription is not None:
            subscription.close()
        return endpoints

    def close(self) -> None:
        """Stop following the resolver and close every endpoint's channels."""
        for endpoint in self._take_all():
            endpoint.channels.close()

    async def aclose(self) -> None:
        for endpoint in self._take_all():
            await endpoint.channels.aclose()


class Release:
    """Ends one call's stay on its endpoint, once, however many ends it is told of."""

    __slots__ = ("_endpoint", "_endpoints", "_lock", "_released")

    def __init__(self, endpoints: EndpointSet, endpoint: Endpoint) -> None:
        self._endpoints = endpoints
        self._endpoint = endpoint
        self._released = False
        self._lock = threading.Lock()

    def __call__(self, outcome: GrpcResponse[Any] | None = None) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._endpoints.leave(self._endpoint, None if outcome is None else outcome.status_code())


def _per_endpoint(settings: ChannelSettings, authority: str | None) -> ChannelSettings:
    """The settings each endpoint's channels open with: one address, no grpcio balancing.

    Addresses a DNS name stands for keep the name as ``:authority`` and as the
    name a TLS certificate is checked against (unless the client names another).
    """
    options = settings.extra_options
    override = settings.ssl_target_name_override
    if authority is not None:
        if not any(name == "grpc.default_authority" for name, _ in options):
            options = (*options, ("grpc.default_authority", authority))
        named = override or (settings.tls.server_name_override if settings.tls else None)
        if settings.secure and not named:
            override = authority.rpartition(":")[0].strip("[]")
    return replace(
        settings, load_balancing=None, extra_options=options, ssl_target_name_override=override
    )


def _first_wait(prepared: PreparedCall) -> float:
    remaining = prepared.remaining()
    return _FIRST_RESOLUTION_WAIT if remaining is None else max(0.0, remaining)


class EndpointTransport:
    """:class:`Transport`'s surface over an :class:`EndpointSet`: each call on one endpoint.

    Every method that sends picks an endpoint, counts the call in flight there
    and hands it to that endpoint's own :class:`Transport`; the outcome feeds
    outlier ejection. A new ``Transport`` method is one more such delegation,
    in the section below.
    """

    __slots__ = ("call_options", "endpoints")

    def __init__(self, endpoints: EndpointSet, call_options: CallOptions) -> None:
        self.endpoints = endpoints
        self.call_options = call_options

    def options(self, prepared: PreparedCall) -> CallOptions:
        if prepared.compression is None:
            return self.call_options
        return {**self.call_options, "compression": prepared.compression}

    # -- per-endpoint delegation: every sending method of Transport --------------------------

    def attempt(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        endpoints = self.endpoints
        endpoint = endpoints.enter_sync(prepared)
        if endpoint is None:
            return endpoints.no_endpoint(prepared)
        try:
            response = endpoint.transport.attempt(prepared)
        except BaseException:
            endpoints.leave(endpoint, None)
            raise
        endpoints.leave(endpoint, response._code)
        return response

    async def attempt_async(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        endpoints = self.endpoints
        endpoint = await endpoints.enter_async(prepared)
        if endpoint is None:
            return endpoints.no_endpoint(prepared)
        try:
            response = await endpoint.transport.attempt_async(prepared)
        except BaseException:
            endpoints.leave(endpoint, None)
            raise
        endpoints.leave(endpoint, response._code)
        return response

    def start_attempt(
        self, prepared: PreparedCall, on_done: Callable[[GrpcResponse[Any]], None]
    ) -> Callable[[], object]:
        """A hedge on one endpoint; its cancel also ends its stay there (no outcome to count)."""
        endpoints = self.endpoints
        endpoint = endpoints.enter_sync(prepared)
        if endpoint is None:
            on_done(endpoints.no_endpoint(prepared))
            return nothing_to_cancel
        release = endpoints.done_callback(endpoint)

        def finished(outcome: GrpcResponse[Any]) -> None:
            release(outcome)
            on_done(outcome)

        cancel = endpoint.transport.start_attempt(prepared, finished)

        def cancel_and_release() -> None:
            cancel()
            release(None)

        return cancel_and_release

    def open_stream(self, prepared: PreparedCall) -> GrpcStream[Any]:
        endpoints = self.endpoints
        endpoint = endpoints.enter_sync(prepared)
        if endpoint is None:
            return ended_stream(self._stream_refused(prepared))
        release = endpoints.done_callback(endpoint)
        prepared.add_done_callback(release)  # runs when the stream ends, however it ends
        try:
            stream = endpoint.transport.open_stream(prepared)
        except BaseException:
            release()
            raise
        if stream.is_finished():  # failed to start: no done callback will come
            release()
        return stream

    def open_stream_async(self, prepared: PreparedCall) -> AsyncGrpcStream[Any]:
        endpoints = self.endpoints
        endpoint = endpoints.enter()  # opening a stream does not wait: nor for the resolver
        if endpoint is None:
            return ended_stream_async(self._stream_refused(prepared))
        release = endpoints.done_callback(endpoint)
        prepared.add_done_callback(release)
        try:
            stream = endpoint.transport.open_stream_async(prepared)
        except BaseException:
            release()
            raise
        if stream.is_finished():
            release()
        return stream

    def _stream_refused(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        response = self.endpoints.no_endpoint(prepared)
        prepared.done(response)  # the attempt hooks' ends
        return response

    def refused_by_closed_channel(
        self, prepared: PreparedCall, error: Exception
    ) -> GrpcResponse[Any]:
        """As :meth:`Transport.refused_by_closed_channel`, for the client's close()."""
        if not self.endpoints.closed:
            raise error
        if prepared.attempt <= 1:
            raise ClientClosedError(
                f"GrpcClient({self.endpoints.name!r}) was closed before the call started"
            ) from error
        return prepared.cancelled_locally()

    # -- connectivity, for the retry layer ----------------------------------------------------

    def connected(self) -> bool:
        """Whether some endpoint has a connection (a dead one among live ones costs a token)."""
        return any(endpoint.transport.connected() for endpoint in self.endpoints.available())

    def connected_async(self) -> bool:
        return any(endpoint.transport.connected_async() for endpoint in self.endpoints.available())

    def wait_for_connection(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for an endpoint to exist and one of them to connect."""
        until = time.monotonic() + seconds
        endpoints = self.endpoints
        if not endpoints.wait_for_endpoints(seconds):
            return False
        while not endpoints.closed:
            for endpoint in endpoints.available():
                try:
                    channel = endpoint.channels.sync_slot().channel
                except ClientClosedError:
                    continue  # retired and closed a moment ago
                assert isinstance(channel, grpc.Channel)
                ready = sync_channel_ready_now(channel, try_to_connect=True)
                if ready is None:  # grpcio's internals changed: that endpoint's public road
                    return endpoint.transport.wait_for_connection(until - time.monotonic())
                if ready:
                    return True
            left = until - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(_POLL_SECONDS, left))
        return False

    async def wait_for_connection_async(self, seconds: float) -> bool:
        until = time.monotonic() + seconds
        endpoints = self.endpoints
        if not await endpoints.wait_for_endpoints_async(seconds):
            return False
        channels: list[grpc.aio.Channel] = []
        for endpoint in endpoints.available():
            try:
                channel = endpoint.channels.async_slot().channel
            except ClientClosedError:
                continue
            assert isinstance(channel, grpc.aio.Channel)
            if channel.get_state(try_to_connect=True) is _READY:
                return True
            channels.append(channel)
        if not channels:
            return False
        waits = [asyncio.ensure_future(channel.channel_ready()) for channel in channels]
        try:
            done, _ = await asyncio.wait(
                waits,
                timeout=max(0.0, until - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for wait in waits:
                wait.cancel()
        return any(not wait.cancelled() and wait.exception() is None for wait in done)
