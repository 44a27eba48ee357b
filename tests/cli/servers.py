"""The servers the CLI tests talk to: real grpcio servers on 127.0.0.1 with reflection.

One server carries ``chat.ChatService`` (all four kinds, steered by metadata, see
tests/streaming/chat_service.py), the example services of tests/support/servers.py
(``user.UserService``'s ``GetUser("rich")`` fails with google.rpc details), the
standard health service (grpcio-health-checking) and grpcio-reflection (v1alpha).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from tests.resilience.certs import Pki
from tests.streaming.chat_service import ChatService
from tests.support.call_log import CallLog
from tests.support.servers import example_services

SERVED = ("chat.ChatService", "user.UserService")


@dataclass
class RunningServer:
    target: str
    health: health.HealthServicer
    server: grpc.Server


@contextmanager
def cli_server(
    *, pki: Pki | None = None, reflect: bool = True, services: Sequence[str] = SERVED
) -> Iterator[RunningServer]:
    """A server with chat, user, health and (unless ``reflect=False``) reflection."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((ChatService().handler(), *example_services(CallLog())))
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    checker.set("", health_pb2.HealthCheckResponse.SERVING)
    checker.set("chat.ChatService", health_pb2.HealthCheckResponse.SERVING)
    checker.set("user.UserService", health_pb2.HealthCheckResponse.NOT_SERVING)
    if reflect:
        names = (*services, health.SERVICE_NAME, reflection.SERVICE_NAME)
        reflection.enable_server_reflection(names, server)
    if pki is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        credentials = grpc.ssl_server_credentials(
            [(pki.server.private_key, pki.server.certificate)]
        )
        port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        yield RunningServer(f"127.0.0.1:{port}", checker, server)
    finally:
        server.stop(None)
