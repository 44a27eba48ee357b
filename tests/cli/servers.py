"""The servers the CLI tests talk to: real grpcio servers on 127.0.0.1 with reflection.

One server carries ``chat.ChatService`` (all four kinds, steered by metadata, see
tests/streaming/chat_service.py), the example services of tests/support/servers.py
(``user.UserService``'s ``GetUser("rich")`` fails with google.rpc details), the
standard health service (grpcio-health-checking) and grpcio-reflection (v1alpha;
``v1=True`` also serves it under the v1 name, as grpc-js does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2

from protoreq_generator.protoc import Invocation, descriptor_request
from tests.resilience.certs import Pki
from tests.streaming.chat_service import ChatService
from tests.support.call_log import CallLog
from tests.support.servers import example_services

SERVED = ("chat.ChatService", "user.UserService")
PROTOS = Path(__file__).parent / "protos"
V1 = "grpc.reflection.v1.ServerReflection"


@dataclass
class RunningServer:
    target: str
    health: health.HealthServicer
    server: grpc.Server
    reflection_paths: list[str] = field(default_factory=list)
    chat: ChatService = field(default_factory=ChatService)


class _RecordReflection(grpc.ServerInterceptor):
    def __init__(self, paths: list[str]) -> None:
        self.paths = paths

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        if "Reflection" in handler_call_details.method:
            self.paths.append(handler_call_details.method)
        return continuation(handler_call_details)


def stamped_pool() -> descriptor_pool.DescriptorPool:
    """stamped/clock.proto (imports google/protobuf/timestamp.proto) in a pool of its own."""
    request = descriptor_request(Invocation(includes=(PROTOS,), sources=(PROTOS / "stamped",)))
    pool = descriptor_pool.DescriptorPool()
    for file in request.proto_file:
        pool.Add(file)
    return pool


def _reflection_handler(name: str, servicer: Any) -> grpc.GenericRpcHandler:
    """grpcio-reflection's servicer under ``name`` (v1 and v1alpha: the same messages)."""
    return grpc.method_handlers_generic_handler(
        name,
        {
            "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                servicer.ServerReflectionInfo,
                request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
                response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
            )
        },
    )


@contextmanager
def cli_server(
    *,
    pki: Pki | None = None,
    reflect: bool = True,
    v1: bool = False,
    with_imports: bool = False,
    services: Sequence[str] = SERVED,
    mutual: bool = False,
) -> Iterator[RunningServer]:
    """A server with chat, user, health and (unless ``reflect=False``) reflection.

    ``with_imports=True`` reflects stamped/clock.proto (tests/cli/protos) instead.
    """
    paths: list[str] = []
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8), interceptors=[_RecordReflection(paths)]
    )
    chat = ChatService()
    server.add_generic_rpc_handlers((chat.handler(), *example_services(CallLog())))
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    checker.set("", health_pb2.HealthCheckResponse.SERVING)
    checker.set("chat.ChatService", health_pb2.HealthCheckResponse.SERVING)
    checker.set("user.UserService", health_pb2.HealthCheckResponse.NOT_SERVING)
    if reflect:
        pool = stamped_pool() if with_imports else None
        names = ("stamped.Clock",) if with_imports else services
        names = (*names, health.SERVICE_NAME, reflection.SERVICE_NAME)
        servicer = reflection.ReflectionServicer(names, pool=pool)
        server.add_generic_rpc_handlers((_reflection_handler(reflection.SERVICE_NAME, servicer),))
        if v1:
            server.add_generic_rpc_handlers((_reflection_handler(V1, servicer),))
    if pki is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        credentials = grpc.ssl_server_credentials(
            [(pki.server.private_key, pki.server.certificate)],
            root_certificates=pki.ca,
            require_client_auth=mutual,
        )
        port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        yield RunningServer(f"127.0.0.1:{port}", checker, server, paths, chat)
    finally:
        server.stop(None)
