"""The transport: one attempt of a call, or one stream, sent on a client's grpcio channels.

This is the innermost layer (see :mod:`protoreq.interceptors` for the order).
It picks a channel from the :class:`~protoreq.transport.channels.ChannelPool`,
sends through grpcio (its fast paths or their public fallbacks), and turns
what grpcio answers into a :class:`~protoreq.GrpcResponse`; for the retry layer
it also tells whether the channel is connected and waits for a reconnection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final

import grpc

from protoreq.errors import ClientClosedError
from protoreq.preparation import PreparedCall
from protoreq.response import GrpcResponse
from protoreq.status import undecodable_reply
from protoreq.streaming import AsyncGrpcStream, GrpcStream
from protoreq.transport.channels import ChannelPool, ChannelSlot
from protoreq.transport.fast_paths import (
    CLOSED_CHANNEL_ERRORS,
    sync_channel_ready_now,
    unary_call,
)
from protoreq.transport.streams import (
    call_client_streaming,
    call_client_streaming_async,
    open_stream,
    open_stream_async,
)

CallOptions = dict[str, Any]

_READY_POLL_SECONDS: Final = 0.01
"""How often a sync wait for a connection looks at the channel (a cheap check)."""
_READY: Final = grpc.ChannelConnectivity.READY
_NOT_READY_ERRORS: Final[tuple[type[Exception], ...]] = (
    TimeoutError,
    ClientClosedError,
    *CLOSED_CHANNEL_ERRORS,
)
"""How an async wait for a connection ends without one: the deadline, or close()."""


class Transport:
    """Sends attempts and streams over a :class:`ChannelPool` with the client's call options."""

    __slots__ = ("call_options", "channels")

    def __init__(self, channels: ChannelPool, call_options: CallOptions) -> None:
        self.channels = channels
        self.call_options = call_options
        """grpcio's per-call keywords (credentials, wait_for_ready, compression)."""

    def options(self, prepared: PreparedCall) -> CallOptions:
        """Per-call grpcio keywords: the client's, and the request's compression if it chose one."""
        if prepared.compression is None:
            return self.call_options
        return {**self.call_options, "compression": prepared.compression}

    # -- unary (and client-streaming) attempts ------------------------------------------------

    def attempt(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        """One unary or client-streaming attempt on a sync channel."""
        channels = self.channels
        slots = channels._sync_slots
        slot = slots[0] if slots and channels.pool_size == 1 else channels.sync_slot()
        if prepared.message is None:
            return self._client_streaming(slot, prepared)
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
                self.call_options if prepared.compression is None else self.options(prepared),
            )
        except grpc.RpcError as error:
            return prepared.failed(error)
        except CLOSED_CHANNEL_ERRORS as error:
            return self.refused_by_closed_channel(prepared, error)
        return prepared.answered(reply, received)

    async def attempt_async(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        """One unary or client-streaming attempt on the running loop's channel."""
        slot = self.channels.async_slot()
        if prepared.message is None:
            return await self._client_streaming_async(slot, prepared)
        rpc = prepared.rpc
        unary = slot.callables["unary_unary"].get(rpc.path) or slot.callable("unary_unary", rpc)
        deadline = prepared.deadline
        try:
            reply, received = await unary(
                prepared.message,
                None if deadline is None else deadline - time.monotonic(),
                prepared.metadata,
                self.call_options if prepared.compression is None else self.options(prepared),
            )
        except grpc.RpcError as error:
            return prepared.failed(error)
        except CLOSED_CHANNEL_ERRORS as error:
            return self.refused_by_closed_channel(prepared, error)
        except asyncio.CancelledError:
            if _task_is_cancelled():
                raise  # our caller cancelled us: the RPC is already cancelled with it
            return prepared.cancelled_locally()
        if reply is None:  # grpc.aio's answer to a reply that did not parse
            return prepared.failed(undecodable_reply(*received))
        return prepared.answered(reply, received)

    def start_attempt(
        self, prepared: PreparedCall, on_done: Callable[[GrpcResponse[Any]], None]
    ) -> Callable[[], object]:
        """Start a sync unary attempt without waiting for it (a hedge); returns its cancel.

        A grpcio future: grpcio's own thread runs ``on_done`` with the outcome,
        so hedged sync calls need no thread of their own.
        """
        multicallable = self.channels.sync_slot().callable("unary_unary", prepared.rpc)
        deadline = prepared.deadline
        try:
            future = multicallable.future(
                prepared.message,
                timeout=None if deadline is None else deadline - time.monotonic(),
                metadata=prepared.metadata,
                **self.options(prepared),
            )
        except CLOSED_CHANNEL_ERRORS as error:
            on_done(self.refused_by_closed_channel(prepared, error))
            return nothing_to_cancel

        def finished(future: grpc.Future[Any]) -> None:
            if future.cancelled():
                return  # by the hedging layer, which has answered for it
            try:
                reply = future.result()
            except grpc.RpcError as error:
                on_done(prepared.failed(error))
                return
            on_done(prepared.answered(reply, future))  # type: ignore[arg-type]  # a grpc.Call

        future.add_done_callback(finished)
        return future.cancel  # type: ignore[no-any-return]

    def _client_streaming(self, slot: ChannelSlot, prepared: PreparedCall) -> GrpcResponse[Any]:
        multicallable = slot.callable("stream_unary", prepared.rpc)
        try:
            return call_client_streaming(multicallable, prepared, self.options(prepared))
        except CLOSED_CHANNEL_ERRORS as error:
            return self.refused_by_closed_channel(prepared, error)

    async def _client_streaming_async(
        self, slot: ChannelSlot, prepared: PreparedCall
    ) -> GrpcResponse[Any]:
        multicallable = slot.callable("stream_unary", prepared.rpc)
        try:
            return await call_client_streaming_async(
                multicallable, prepared, self.options(prepared)
            )
        except CLOSED_CHANNEL_ERRORS as error:
            return self.refused_by_closed_channel(prepared, error)

    # -- streams ------------------------------------------------------------------------------

    def open_stream(self, prepared: PreparedCall) -> GrpcStream[Any]:
        """Start a server-streaming or bidi call on a sync channel."""
        multicallable = self.channels.sync_slot().callable(
            prepared.rpc.cardinality.value, prepared.rpc
        )
        try:
            return open_stream(multicallable, prepared, self.options(prepared))
        except CLOSED_CHANNEL_ERRORS as error:
            self.refused_by_closed_channel(prepared, error)
            raise  # unreachable: a stream has no retry to answer for

    def open_stream_async(self, prepared: PreparedCall) -> AsyncGrpcStream[Any]:
        """Start a server-streaming or bidi call on the running loop's channel."""
        multicallable = self.channels.async_slot().callable(
            prepared.rpc.cardinality.value, prepared.rpc
        )
        try:
            return open_stream_async(multicallable, prepared, self.options(prepared))
        except CLOSED_CHANNEL_ERRORS as error:
            self.refused_by_closed_channel(prepared, error)
            raise  # unreachable: a stream has no retry to answer for

    def refused_by_closed_channel(
        self, prepared: PreparedCall, error: Exception
    ) -> GrpcResponse[Any]:
        """The answer when grpcio refuses an RPC because ``close()`` closed its channel.

        The call passed its check before the close and reached grpcio after it: a
        first attempt (or a stream) is a call started after ``close()`` and raises
        :class:`ClientClosedError`, as it would have a moment later; a retry belongs
        to a call the close cut short, which answers CANCELLED. Anything else
        grpcio raises while the client is open is not ours to reinterpret.
        """
        if not self.channels.closed:
            raise error
        if prepared.attempt <= 1:
            raise ClientClosedError(
                f"GrpcClient({self.channels.settings.target!r}) was closed before the call started"
            ) from error
        return prepared.cancelled_locally()

    # -- connectivity, for the retry layer ----------------------------------------------------

    def connected(self) -> bool:
        """Whether the sync channel has a connection; when grpcio cannot tell, assume so
        (the failure then costs its retry token, as gRFC A6 has it)."""
        channel = self.channels.opened_sync_channel()
        return channel is not None and sync_channel_ready_now(channel) is not False

    def connected_async(self) -> bool:
        try:
            channel = self.channels.async_slot().channel
        except ClientClosedError:
            return False
        return isinstance(channel, grpc.aio.Channel) and channel.get_state() is _READY

    def wait_for_connection(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the sync channel to connect; ``False`` if it did not."""
        try:
            channel = self.channels.sync_slot().channel
        except ClientClosedError:
            return False  # closed a moment ago: the call answers with its last outcome
        assert isinstance(channel, grpc.Channel)
        if sync_channel_ready_now(channel):
            return True  # the usual case: a connected server answered UNAVAILABLE itself
        until = time.monotonic() + seconds
        while not self.channels.closed:
            ready = sync_channel_ready_now(channel, try_to_connect=True)
            if ready is None:  # grpcio's internals changed: the public road
                return _wait_ready_public(channel, until)
            if ready:
                return True
            left = until - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(_READY_POLL_SECONDS, left))
        return False

    async def wait_for_connection_async(self, seconds: float) -> bool:
        """:meth:`wait_for_connection` on the running loop's channel."""
        try:
            channel = self.channels.async_slot().channel
            assert isinstance(channel, grpc.aio.Channel)
            if channel.get_state() is _READY:
                return True
            await asyncio.wait_for(channel.channel_ready(), seconds)
        except _NOT_READY_ERRORS:
            return False
        return True


def nothing_to_cancel() -> None:
    """The cancel of an attempt that never started (refused, or no endpoint to send it to)."""


def _wait_ready_public(channel: grpc.Channel, until: float) -> bool:
    """Wait for ``channel`` to connect until ``until``, through grpcio's public future."""
    ready = grpc.channel_ready_future(channel)
    try:
        ready.result(timeout=max(0.0, until - time.monotonic()))
    except grpc.FutureTimeoutError:
        return False
    finally:
        ready.cancel()  # unsubscribes (a no-op once ready)
    return True


def _task_is_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
