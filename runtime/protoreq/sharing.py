"""Channels shared between clients, with one rule for closing them.

By default a ``GrpcClient`` owns its channels: it opens them, they carry only
its calls, and its ``close()`` closes them. That makes a hand-written pool of
clients (the original design's ``PooledGrpcService``) spread calls over as many
connections as it has clients.

``GrpcClient(..., share_channels=True)`` opts into sharing instead: clients
whose channel settings are equal (same target, TLS, options, ``pool_size``) use
one set of channels per process (and per event loop, for async calls). The
rule for closing is reference counting: each client holds one reference to
each set it used; ``close()`` drops the client's references and only the last
client to let go closes the channels. Closing one client therefore never
breaks another, and settings that differ in any way never share. Per-call
settings (timeout, retry policy, retry budget, call credentials, compression)
stay per client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Entry(Generic[T]):
    __slots__ = ("holders", "value")

    def __init__(self, value: T) -> None:
        self.value = value
        self.holders = 1


class SharedChannels(Generic[T]):
    """A reference-counted registry: ``acquire`` opens or reuses, ``release`` closes last."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry[T]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: Hashable, open_channels: Callable[[], T]) -> T:
        """The channels for ``key``, opened by ``open_channels`` if nobody holds them yet."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(open_channels())
            else:
                entry.holders += 1
            return entry.value

    def release(self, key: Hashable) -> T | None:
        """Drop one reference; the channels when that was the last one (the caller closes them)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            entry.holders -= 1
            if entry.holders > 0:
                return None
            del self._entries[key]
            return entry.value

    def holders(self, key: Hashable) -> int:
        with self._lock:
            entry = self._entries.get(key)
            return 0 if entry is None else entry.holders

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        return f"SharedChannels({len(self)} sets)"
