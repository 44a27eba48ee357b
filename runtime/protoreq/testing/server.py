"""A real grpcio server on ``127.0.0.1`` with an ephemeral port, for the length of a ``with``.

Tests talk to it through a real :class:`~protoreq.GrpcClient`, so everything
between the request object and the servicer (serialization, metadata,
deadlines, status codes) is the real thing. ``serve`` runs a sync
``grpc.server`` on a thread pool (usable from sync and async tests alike);
``serve_async`` runs a ``grpc.aio.server`` for ``async def`` servicers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent import futures
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeAlias

import grpc

Registrar: TypeAlias = Callable[[grpc.Server], object]
"""``lambda server: add_UserServiceServicer_to_server(servicer, server)``."""

ServicerRegistration: TypeAlias = tuple[Callable[[Any, Any], object], object]
"""``(add_UserServiceServicer_to_server, servicer)``: grpc's generated adder and its servicer."""

Service: TypeAlias = grpc.GenericRpcHandler | ServicerRegistration | Registrar
"""What a test server runs: a generic handler (``grpc.method_handlers_generic_handler(...)``,
a :class:`~protoreq.testing.FakeGrpcServer`), an ``(add_XServicer_to_server, servicer)``
pair, or a callable that registers services on the server it is given."""

ServerOption: TypeAlias = tuple[str, Any]

HOST = "127.0.0.1"


@contextmanager
def serve(
    *services: Service,
    max_workers: int = 8,
    options: Sequence[ServerOption] = (),
    credentials: grpc.ServerCredentials | None = None,
    port: int = 0,
) -> Iterator[str]:
    """Run ``services`` on a sync grpcio server and yield its target, ``"127.0.0.1:<port>"``.

    The server stops (cancelling calls still running) when the block ends.
    ``credentials`` (``grpc.ssl_server_credentials(...)``) make the port TLS.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="protoreq-test"),
        options=list(options),
    )
    target = _start(server, services, credentials, port)
    server.start()
    try:
        yield target
    finally:
        server.stop(grace=None).wait()


@asynccontextmanager
async def serve_async(
    *services: Service,
    options: Sequence[ServerOption] = (),
    credentials: grpc.ServerCredentials | None = None,
    port: int = 0,
) -> AsyncIterator[str]:
    """Run ``services`` on a ``grpc.aio`` server in the running loop; yield its target.

    For servicers whose methods are ``async def``. A
    :class:`~protoreq.testing.FakeGrpcServer` answers with sync handlers, so it
    runs under :func:`serve`, which async tests can use as well.
    """
    for service in services:
        if getattr(service, "sync_handlers_only", False):
            raise TypeError(
                f"{type(service).__name__} needs a sync server: use `with serve(...)` "
                "(its threads serve async tests too) or its own `with` block"
            )
    server = grpc.aio.server(options=list(options))
    target = _start(server, services, credentials, port)
    await server.start()
    try:
        yield target
    finally:
        await server.stop(grace=None)


def _start(
    server: grpc.Server | grpc.aio.Server,
    services: Sequence[Service],
    credentials: grpc.ServerCredentials | None,
    port: int,
) -> str:
    if not services:
        raise ValueError("a test server needs at least one service to run")
    for service in services:
        _register(server, service)
    address = f"{HOST}:{port}"
    if credentials is None:
        bound = server.add_insecure_port(address)
    else:
        bound = server.add_secure_port(address, credentials)
    if bound == 0:
        raise OSError(f"could not bind a test server to {address}")
    return f"{HOST}:{bound}"


def _register(server: grpc.Server | grpc.aio.Server, service: Service) -> None:
    if isinstance(service, grpc.GenericRpcHandler):
        server.add_generic_rpc_handlers((service,))
    elif isinstance(service, tuple) and len(service) == 2 and callable(service[0]):
        add_to_server, servicer = service
        add_to_server(servicer, server)
    elif callable(service):
        service(server)  # type: ignore[arg-type]  # grpc.aio.Server takes the same adders
    else:
        raise TypeError(
            "a test server runs generic RPC handlers, (add_XServicer_to_server, servicer) pairs "
            f"or callables taking the server; got {service!r}"
        )
