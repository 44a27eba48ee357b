"""Servers that come up late or restart: the same client gets through without being recreated."""

from __future__ import annotations

import threading
import time

import grpc

from protoreq import NO_RETRY, GrpcClient, RetryPolicy
from tests.resilience.faults import FaultyUserService, start_server
from tests.resilience.requests import GetUser
from tests.runtime.conftest import Send
from tests.support.servers import unused_port

RIDE_OUT = RetryPolicy(max_attempts=100, initial_backoff=0.05, max_backoff=0.1)


def test_wait_for_ready_waits_for_a_server_that_comes_up_later(
    send: Send, fast_reconnect: list[tuple[str, int]]
) -> None:
    port = unused_port()
    service = FaultyUserService()
    servers: list[grpc.Server] = []
    later = threading.Timer(
        0.5, lambda: servers.append(start_server(service.handlers(), port=port)[0])
    )
    with GrpcClient(
        f"127.0.0.1:{port}", wait_for_ready=True, retry=NO_RETRY, options=fast_reconnect
    ) as client:
        later.start()
        try:
            started = time.monotonic()
            response = send(client, GetUser(timeout=5))
            took = time.monotonic() - started
        finally:
            later.join()
            for server in servers:
                server.stop(None).wait()

    assert response.is_success(), response
    assert response.attempts() == 1  # one attempt, held by gRPC until the connection was up
    assert 0.4 < took < 3


def test_without_wait_for_ready_a_down_server_fails_fast(send: Send) -> None:
    with GrpcClient(f"127.0.0.1:{unused_port()}", retry=NO_RETRY) as client:
        started = time.monotonic()
        response = send(client, GetUser(timeout=5))
        took = time.monotonic() - started

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert took < 2


def test_wait_for_ready_still_obeys_the_deadline(send: Send) -> None:
    with GrpcClient(f"127.0.0.1:{unused_port()}", wait_for_ready=True, retry=NO_RETRY) as client:
        started = time.monotonic()
        response = send(client, GetUser(timeout=0.3))
        took = time.monotonic() - started

    assert response.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert took < 1


def test_same_client_recovers_after_the_server_restarts_on_its_port(send: Send) -> None:
    """grpcio's default reconnect backoff (about 1 s) applies; retries ride it out."""
    service = FaultyUserService()
    server, port = start_server(service.handlers())
    client = GrpcClient(f"127.0.0.1:{port}", retry_throttle=None)
    try:
        assert send(client, GetUser()).is_success()
        server.stop(None).wait()

        down = send(client, GetUser(retry=NO_RETRY, timeout=2))
        assert down.status_code() is grpc.StatusCode.UNAVAILABLE

        server, _ = start_server(service.handlers(), port=port)
        started = time.monotonic()
        back = send(client, GetUser(retry=RIDE_OUT, timeout=5))
        took = time.monotonic() - started
        assert back.is_success(), back
        assert took < 4
        again = send(client, GetUser(retry=NO_RETRY))
        assert again.is_success()
        assert again.attempts() == 1
    finally:
        client.close()
        server.stop(None).wait()
    first, *_, last = service.arrivals
    assert first.peer != last.peer  # a new connection, made by the same client
