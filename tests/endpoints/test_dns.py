"""DNS that notices new backends: ``dns:///`` targets re-resolved every ``resolve_every`` seconds.

A name whose answer the test changes comes from an injected ``resolve``
function (real servers behind it); the real ``getaddrinfo`` path is tested
with ``dns:///localhost:PORT``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from protoreq import DnsResolver, GrpcClient
from protoreq.resolvers import resolve_addresses
from tests.endpoints.conftest import Backend
from tests.resilience.requests import GetUser
from tests.runtime.conftest import Send
from tests.support.call_log import CallLog
from tests.support.servers import example_services

pytestmark = pytest.mark.timeout(60)

EVERY = 0.1


class ChangingName:
    """What ``users.test`` resolves to; the test changes it (or makes resolution fail)."""

    def __init__(self, *addresses: str) -> None:
        self._lock = threading.Lock()
        self._addresses = list(addresses)
        self.failing = False
        self.asked = 0

    def set(self, *addresses: str) -> None:
        with self._lock:
            self._addresses = list(addresses)

    def resolve(self, host: str, port: int) -> list[str]:
        assert (host, port) == ("users.test", 50051)
        with self._lock:
            self.asked += 1
            if self.failing:
                raise OSError("Temporary failure in name resolution")
            return list(self._addresses)


def _calls_until(send: Send, client: GrpcClient, condition: object, seconds: float = 10) -> int:
    """Send calls (all must succeed) until ``condition()``; how many it took."""
    assert callable(condition)
    calls, until = 0, time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < until, "the client did not follow the name in time"
        assert send(client, GetUser()).is_success()
        calls += 1
        time.sleep(0.01)
    return calls


def test_a_re_resolved_name_follows_backends_coming_and_going(
    send: Send, backends: list[Backend]
) -> None:
    first, second, _ = backends
    name = ChangingName(first.address)
    resolver = DnsResolver("users.test", 50051, every=EVERY, resolve=name.resolve)
    with GrpcClient("dns:///users.test:50051", resolver=resolver, timeout=10) as client:
        assert send(client, GetUser()).is_success()
        name.set(first.address, second.address)  # a pod added behind a headless Service
        _calls_until(send, client, lambda: second.hits > 0)
        name.set(second.address)  # the first pod went away
        asked = name.asked
        _calls_until(send, client, lambda: name.asked >= asked + 2)  # re-resolved since
        before = first.hits
        for _ in range(5):
            assert send(client, GetUser()).is_success()

    assert first.hits == before  # no new call went to the address that left the name


def test_a_failed_resolution_keeps_the_addresses_found_before(
    send: Send, backends: list[Backend]
) -> None:
    name = ChangingName(backends[0].address)
    resolver = DnsResolver("users.test", 50051, every=EVERY, resolve=name.resolve)
    with GrpcClient("dns:///users.test:50051", resolver=resolver, timeout=10) as client:
        assert send(client, GetUser()).is_success()
        name.failing = True
        asked = name.asked
        _calls_until(send, client, lambda: name.asked >= asked + 2)
        assert all(send(client, GetUser()).is_success() for _ in range(3))


def test_a_name_that_never_resolves_answers_unavailable_naming_the_target(send: Send) -> None:
    name = ChangingName()
    name.failing = True
    resolver = DnsResolver("users.test", 50051, every=EVERY, resolve=name.resolve)
    with GrpcClient("dns:///users.test:50051", resolver=resolver, retry=None) as client:
        response = send(client, GetUser())

    assert response.status_code() == grpc.StatusCode.UNAVAILABLE
    assert "no live endpoint for dns:///users.test:50051" in response.details()


@pytest.fixture
def localhost_server(compiled_protos: object) -> Iterator[tuple[int, CallLog]]:
    """A server on every address ``localhost`` has here (127.0.0.1, and ::1 where it resolves)."""
    log = CallLog()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers(example_services(log))
    port = server.add_insecure_port("127.0.0.1:0")
    for address in resolve_addresses("localhost", port):
        if address != f"127.0.0.1:{port}":
            with contextlib.suppress(RuntimeError):  # not bindable here: retries cover it
                server.add_insecure_port(address)
    server.start()
    try:
        yield port, log
    finally:
        server.stop(grace=None).wait()


def test_resolve_every_uses_the_real_resolver(
    send: Send, localhost_server: tuple[int, CallLog]
) -> None:
    port, log = localhost_server
    addresses = resolve_addresses("localhost", port)
    assert addresses
    assert all(address.endswith(f":{port}") for address in addresses)
    with GrpcClient(f"dns:///localhost:{port}", resolve_every=0.2, timeout=10) as client:
        responses = [send(client, GetUser()) for _ in range(4)]

    assert all(response.is_success() for response in responses)
    assert len(log.calls) == 4


def test_dns_targets_without_resolve_every_go_to_grpcio(target: str) -> None:
    from protoreq.transport.calls import Transport  # noqa: PLC0415

    with GrpcClient(f"dns:///{target}") as client:
        assert type(client._transport) is Transport
        assert client.call(GetUser()).is_success()
