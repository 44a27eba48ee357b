"""The benchmark's server, in its own process so its CPU never counts as the client's.

``python -m bench.server DIR`` imports the protos compiled into DIR, serves
``user.UserService/GetUser`` and a server-streaming ``bench.Bench/Stream``
(``user_id`` says how many messages) on 127.0.0.1, prints its port, and exits
when stdin closes. Replies are built once, so the server spends as little of
the two cores as it can.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import AsyncIterator

import grpc

STREAM_SERVICE = "bench.Bench"
STREAM_METHOD = "Stream"
TAIL_USER = "tail"
"""GetUser for this id answers ``TAIL_SECONDS`` late ``TAIL_SHARE`` of the time."""
TAIL_SHARE = 0.05
TAIL_SECONDS = 0.1


async def serve() -> None:
    # Importable once DIR is on sys.path.
    from protos.user_pb2 import GetUserRequest, User  # noqa: PLC0415

    user = User(id="1", name="John Doe", email="john@example.com", created_at="2026")
    small: list[User] = []

    async def get_user(
        request: GetUserRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> User:
        if request.user_id == TAIL_USER and random.random() < TAIL_SHARE:
            await asyncio.sleep(TAIL_SECONDS)  # the hedging row's slow answers
        return user

    async def stream(
        request: GetUserRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> AsyncIterator[User]:
        count = int(request.user_id)
        while len(small) < count:
            small.append(User(id=str(len(small)), name="n"))
        for message in small[:count]:
            yield message

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "user.UserService",
                {
                    "GetUser": grpc.unary_unary_rpc_method_handler(
                        get_user,
                        request_deserializer=GetUserRequest.FromString,
                        response_serializer=User.SerializeToString,
                    )
                },
            ),
            grpc.method_handlers_generic_handler(
                STREAM_SERVICE,
                {
                    STREAM_METHOD: grpc.unary_stream_rpc_method_handler(
                        stream,
                        request_deserializer=GetUserRequest.FromString,
                        response_serializer=User.SerializeToString,
                    )
                },
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until EOF
    await server.stop(None)


if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    asyncio.run(serve())
