"""The server the documentation's Python blocks talk to, at the address they know as ``target``.

It runs the example's ``user.UserService`` (seeded with user ``u-1``, Ada
Lovelace) and a small ``chat.ChatService`` for the streaming snippets, on one
real grpcio server on 127.0.0.1, with server reflection and the standard health
service for the ``protoreq`` command line examples. Imported only in the runner's own process,
because ``import examples`` puts ``examples/generated`` on ``sys.path``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from examples.user_server import UserService, UserStore, new_server
from protos import chat_pb2

SLOW_ROOM = "slow"
"""Subscribe to this room and each message takes half a second: the deadline snippets use it."""


def _send(request: chat_pb2.ChatMessage, context: grpc.ServicerContext) -> chat_pb2.ChatMessage:
    return chat_pb2.ChatMessage(seq=request.seq, text=request.text)


def _subscribe(
    request: chat_pb2.SubscribeRequest, context: grpc.ServicerContext
) -> Iterator[chat_pb2.ChatMessage]:
    for seq in range(1, min(request.count, 1000) + 1):
        if request.room == SLOW_ROOM:
            time.sleep(0.5)
        if not context.is_active():
            return
        yield chat_pb2.ChatMessage(seq=seq, text=f"{request.room} #{seq}")


def _upload(
    requests: Iterator[chat_pb2.ChatMessage], context: grpc.ServicerContext
) -> chat_pb2.UploadSummary:
    received = list(requests)
    return chat_pb2.UploadSummary(
        count=len(received),
        last_seq=received[-1].seq if received else 0,
        joined=" ".join(message.text for message in received),
    )


def _converse(
    requests: Iterator[chat_pb2.ChatMessage], context: grpc.ServicerContext
) -> Iterator[chat_pb2.ChatMessage]:
    for message in requests:
        yield chat_pb2.ChatMessage(seq=message.seq, text=f"echo: {message.text}")


def chat_handler() -> grpc.GenericRpcHandler:
    message = chat_pb2.ChatMessage
    return grpc.method_handlers_generic_handler(
        "chat.ChatService",
        {
            "Send": grpc.unary_unary_rpc_method_handler(
                _send, message.FromString, message.SerializeToString
            ),
            "Subscribe": grpc.unary_stream_rpc_method_handler(
                _subscribe, chat_pb2.SubscribeRequest.FromString, message.SerializeToString
            ),
            "Upload": grpc.stream_unary_rpc_method_handler(
                _upload, message.FromString, chat_pb2.UploadSummary.SerializeToString
            ),
            "Converse": grpc.stream_stream_rpc_method_handler(
                _converse, message.FromString, message.SerializeToString
            ),
        },
    )


@contextmanager
def documentation_server() -> Iterator[str]:
    """Serve the documented services; yield ``127.0.0.1:<port>``."""
    store = UserStore()
    store.add("Ada Lovelace", "ada@example.com", 36)
    store.first_read("u-1")  # u-1 is an old user: no "replica catching up" for it
    users = UserService(store)
    server = new_server(max_workers=8)
    server.add_generic_rpc_handlers((users.handler(), chat_handler()))
    # For the README's "Command line" section: reflection and the standard health service.
    checker = health.HealthServicer()
    checker.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    served = ("user.UserService", "chat.ChatService", health.SERVICE_NAME, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(served, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None).wait(timeout=5.0)
