"""The benchmark's server, run in its own process so its CPU never counts as the client's.

``python -m bench.server DIR`` imports the protos compiled into DIR, serves on
127.0.0.1 (ephemeral port, printed on stdout) and exits when stdin closes, so
it can never outlive the benchmark.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import grpc

STREAM_SERVICE = "bench.Bench"
STREAM_METHOD = "Stream"


async def serve() -> None:
    from protos import user_pb2  # noqa: PLC0415  # importable only once DIR is on sys.path

    user = user_pb2.User(id="1", name="John Doe", email="john@example.com", created_at="2026")

    async def get_user(
        request: user_pb2.GetUserRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> user_pb2.User:
        return user

    async def stream(
        request: user_pb2.GetUserRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> AsyncIterator[user_pb2.User]:
        for i in range(int(request.user_id)):
            yield user_pb2.User(id=str(i), name="n")

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "user.UserService",
                {
                    "GetUser": grpc.unary_unary_rpc_method_handler(
                        get_user,
                        request_deserializer=user_pb2.GetUserRequest.FromString,
                        response_serializer=user_pb2.User.SerializeToString,
                    )
                },
            ),
            grpc.method_handlers_generic_handler(
                STREAM_SERVICE,
                {
                    STREAM_METHOD: grpc.unary_stream_rpc_method_handler(
                        stream,
                        request_deserializer=user_pb2.GetUserRequest.FromString,
                        response_serializer=user_pb2.User.SerializeToString,
                    )
                },
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # returns when the parent goes away
    await server.stop(None)


if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    asyncio.run(serve())
