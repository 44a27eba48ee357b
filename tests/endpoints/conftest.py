"""Fixtures for protoreq's endpoint balancing: backends that count their calls, a live registry.

:class:`HandLiveRegistry` is a real :class:`~protoreq.discovery.LiveServiceRegistry`
whose addresses a test changes by hand; it notifies subscribers from a thread
of its own, as etcd's watch does, and ``set()`` returns once they have been told.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from tests.runtime.conftest import send
from tests.support.call_log import CallLog
from tests.support.servers import example_services, serve

__all__ = ["send"]  # every behaviour through call() and call_async()

OnChange = Callable[[tuple[str, ...]], object]


@dataclass
class Backend:
    """A real grpcio server on 127.0.0.1 and the calls it has answered."""

    address: str
    log: CallLog

    @property
    def hits(self) -> int:
        with self.log.lock:
            return len(self.log.calls)


@pytest.fixture
def backends(compiled_protos: object) -> Iterator[list[Backend]]:
    """Three servers of the example services."""
    with ExitStack() as stack:
        found = []
        for _ in range(3):
            log = CallLog()
            found.append(Backend(stack.enter_context(serve(*example_services(log))), log))
        yield found


class _Subscription:
    def __init__(self, registry: HandLiveRegistry, service: str, on_change: OnChange) -> None:
        self._registry = registry
        self.service = service
        self.on_change = on_change
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self._registry.forget(self)


class HandLiveRegistry:
    """Addresses per service, set by the test; subscribers hear of it on the registry's thread."""

    def __init__(self, addresses: dict[str, tuple[str, ...]] | None = None) -> None:
        self._addresses = dict(addresses or {})
        self._subscriptions: list[_Subscription] = []
        self.closed_subscriptions: list[str] = []
        self._lock = threading.Lock()
        self._deliveries: queue.Queue[tuple[OnChange, tuple[str, ...]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._deliver, daemon=True)
        self._thread.start()

    def _deliver(self) -> None:
        while True:
            item = self._deliveries.get()
            try:
                if item is None:
                    return
                on_change, addresses = item
                on_change(addresses)
            finally:
                self._deliveries.task_done()

    def subscribe(self, service_name: str, on_change: OnChange) -> _Subscription:
        subscription = _Subscription(self, service_name, on_change)
        with self._lock:
            self._subscriptions.append(subscription)
            current = self._addresses.get(service_name, ())
        self._deliveries.put((on_change, current))
        return subscription

    def forget(self, subscription: _Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
                self.closed_subscriptions.append(subscription.service)

    def set(self, service_name: str, *addresses: str) -> None:
        """Change a service's addresses; returns once every subscriber has been told."""
        with self._lock:
            self._addresses[service_name] = addresses
            told = [s for s in self._subscriptions if s.service == service_name]
        for subscription in told:
            self._deliveries.put((subscription.on_change, addresses))
        self._deliveries.join()

    def stop(self) -> None:
        self._deliveries.put(None)
        self._thread.join(5)


@pytest.fixture
def registry() -> Iterator[HandLiveRegistry]:
    live = HandLiveRegistry()
    try:
        yield live
    finally:
        live.stop()
