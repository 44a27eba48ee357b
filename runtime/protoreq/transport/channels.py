"""A client's channels: opened lazily, one set for sync calls and one per event loop, closed once.

grpc.aio channels belong to the loop that made them, so async calls get
channels of the running loop's own; those of loops that have closed (each
``asyncio.run()`` closes its loop) are swept when a new loop opens channels,
so a client used across many loops keeps no connection or loop per loop.
Multicallables are made once per channel and method, as grpc's generated
stubs make theirs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import itertools
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Final

import grpc

from protoreq.channel import ChannelSettings
from protoreq.errors import ClientClosedError
from protoreq.method import Cardinality, RpcMethod
from protoreq.sharing import SharedChannels
from protoreq.transport.fast_paths import (
    aio_unary_unary,
    close_aio_channel_now,
    on_public_road,
)

_CLOSE_WAIT_SECONDS: Final = 5.0
_CLOSE_POLL_SECONDS: Final = 0.02
"""How often a sync close() waiting on another thread's loop checks that the loop still runs."""


class ChannelSlot:
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
        One that is not grpcio's own (an intercepted or instrumented channel)
        is wrapped for the public road here, once, not checked per call; a
        grpc.aio unary one is wrapped in the caller that awaits it whole.
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
            elif kind == "unary_unary":  # awaited as a whole: see fast_paths.AioUnaryUnary
                found = aio_unary_unary(found)
            made[rpc.path] = found
        return found


def _registered_method_keyword() -> dict[str, bool]:
    """``_registered_method=True`` where this grpcio takes it (generated stubs pass it too)."""
    parameters = inspect.signature(grpc.Channel.unary_unary).parameters
    return {"_registered_method": True} if "_registered_method" in parameters else {}


_REGISTERED: Final = _registered_method_keyword()


_SHARED_CHANNELS: Final = SharedChannels[list[ChannelSlot]]()
"""Channels of clients made with ``share_channels=True``; see :mod:`protoreq.sharing`."""


class ChannelPool:
    """``pool_size`` channels for sync calls and as many per event loop; safe across threads."""

    def __init__(self, settings: ChannelSettings, *, pool_size: int, share: bool) -> None:
        self.settings = settings
        self.pool_size = pool_size
        self.share = share
        self.closed = False
        self._lock = threading.Lock()
        self._sync_slots: list[ChannelSlot] = []
        self._async_slots: dict[asyncio.AbstractEventLoop, list[ChannelSlot]] = {}
        """Channels per event loop. Not weakly keyed: a grpc.aio channel refers to its loop,
        so an entry would never go by itself; those of closed loops are swept instead."""
        self._last_loop: tuple[weakref.ref[asyncio.AbstractEventLoop], list[ChannelSlot]] | None = (
            None
        )
        """The loop of the latest async call and its channels, found without a dict lookup."""
        self._turn = itertools.count()
        self._closing_tasks: set[asyncio.Task[None]] = set()

    def check_open(self) -> None:
        if self.closed:
            raise ClientClosedError(f"GrpcClient({self.settings.target!r}) is closed")

    # -- picking a channel --------------------------------------------------------------------

    def sync_slot(self) -> ChannelSlot:
        slots = self._sync_slots
        if slots and self.pool_size == 1:
            return slots[0]
        if not slots:
            with self._lock:
                self.check_open()
                if not self._sync_slots:
                    self._sync_slots = self._open_slots(None)
                slots = self._sync_slots
        return self._pick(slots)

    def opened_sync_channel(self) -> grpc.Channel | None:
        """The first sync channel if one is open (asked about connectivity, never opened for it)."""
        slots = self._sync_slots
        channel = slots[0].channel if slots else None
        return channel if isinstance(channel, grpc.Channel) else None

    def async_slot(self) -> ChannelSlot:
        loop = asyncio.get_running_loop()
        last = self._last_loop  # usually the loop of the previous call: no dict lookup
        if last is not None and last[0]() is loop:
            slots = last[1]
        else:
            last = None  # let go of the previous loop's channels: _loop_slots may sweep them
            slots = self._loop_slots(loop)
        return slots[0] if self.pool_size == 1 else self._pick(slots)

    def _pick(self, slots: list[ChannelSlot]) -> ChannelSlot:
        if self.pool_size == 1:
            return slots[0]
        return slots[next(self._turn) % self.pool_size]

    def _open_slots(self, loop: asyncio.AbstractEventLoop | None) -> list[ChannelSlot]:
        """``pool_size`` channels (each its own connection) for sync calls or for ``loop``.

        With ``share`` they come from the process-wide registry, keyed by
        everything that shapes a channel; called under ``self._lock``.
        """

        def open_channels() -> list[ChannelSlot]:
            opener = self.settings.open_sync if loop is None else self.settings.open_async
            return [ChannelSlot(opener()) for _ in range(self.pool_size)]

        if not self.share:
            return open_channels()
        return _SHARED_CHANNELS.acquire(self._shared_key(loop), open_channels)

    def _shared_key(self, loop: asyncio.AbstractEventLoop | None) -> tuple[object, ...]:
        return (self.settings, self.pool_size, loop)

    def _release_slots(
        self, loop: asyncio.AbstractEventLoop | None, slots: list[ChannelSlot]
    ) -> list[ChannelSlot]:
        """The slots this pool must close: its own, or shared ones it was the last to hold."""
        if not self.share or not slots:
            return slots
        return _SHARED_CHANNELS.release(self._shared_key(loop)) or []

    def _loop_slots(self, loop: asyncio.AbstractEventLoop) -> list[ChannelSlot]:
        """The channels of ``loop``, opened on first use; remembered as the last loop's."""
        slots = self._async_slots.get(loop)
        if slots is None:
            with self._lock:
                self.check_open()
                slots = self._async_slots.get(loop)
                if slots is None:
                    self._sweep_closed_loops()
                    slots = self._open_slots(loop)
                    self._async_slots[loop] = slots
        # A weak reference: the pool must not keep a finished loop (or its channels) alive.
        self._last_loop = (weakref.ref(loop), slots)
        return slots

    def _sweep_closed_loops(self) -> None:
        """Close and forget the channels of loops that have closed; called under the lock when
        a new loop opens channels, so a pool used across many loops holds at most the latest
        finished one's."""
        for loop in [loop for loop in self._async_slots if loop.is_closed()]:
            slots = self._async_slots.pop(loop)
            if self._last_loop is not None and self._last_loop[1] is slots:
                self._last_loop = None  # else it would keep the channel objects, and grpcio
                # keeps its aio poller, bound to every loop it served, while a channel lives
            for slot in self._release_slots(loop, slots):
                close_aio_channel_now(slot.channel)

    # -- closing ------------------------------------------------------------------------------

    def _take_channels(
        self,
    ) -> tuple[list[ChannelSlot], list[tuple[asyncio.AbstractEventLoop, ChannelSlot]]]:
        """Mark closed and hand over the channels to close (shared ones only when unused)."""
        with self._lock:
            self.closed = True
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

    def close(self) -> None:
        """Close every channel; async ones on their own loop (safe from async code too)."""
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

    def _close_on_loop(self, loop: asyncio.AbstractEventLoop, slot: ChannelSlot) -> None:
        if loop.is_closed():
            close_aio_channel_now(slot.channel)  # its close() coroutine can no longer run
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task = loop.create_task(_close_async(slot))
            self._closing_tasks.add(task)
            task.add_done_callback(self._closing_tasks.discard)
        elif loop.is_running():
            # The loop runs in another thread: close there and wait, as a sync close() should,
            # unless the loop stops meanwhile and never runs the close (loop.stop() just before).
            done = asyncio.run_coroutine_threadsafe(_close_async(slot), loop)
            _wait_while_running(done, loop)
            if not done.done() and not loop.is_running():
                done.cancel()  # if the loop runs again it must not close a second time
                close_aio_channel_now(slot.channel)
        else:
            loop.run_until_complete(_close_async(slot))


def _wait_while_running(
    done: concurrent.futures.Future[None], loop: asyncio.AbstractEventLoop
) -> None:
    """Wait for ``done`` at most ``_CLOSE_WAIT_SECONDS``, and no longer than ``loop`` runs."""
    until = time.monotonic() + _CLOSE_WAIT_SECONDS
    while loop.is_running() and time.monotonic() < until:
        try:
            done.result(_CLOSE_POLL_SECONDS)
        except concurrent.futures.TimeoutError:
            continue
        except Exception:  # closing is best effort: the channel is gone anyway
            return
        return


async def _close_async(slot: ChannelSlot) -> None:
    channel = slot.channel
    assert isinstance(channel, grpc.aio.Channel)
    await channel.close()
