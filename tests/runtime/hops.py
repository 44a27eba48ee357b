"""Two hops for the server interceptor tests: a relay service (server A) and what server B saw.

Server A is ``chat.ChatService`` whose four handlers each call server B's
``user.UserService/GetUser`` through a protoreq client, with no trace id or
timeout code at all: whatever B receives came from the scope the interceptor
opened. The streaming handlers call B from inside their iteration (each
response step, each request read), where a scope that only covered the
handler call would be gone. Each flavour (sync handlers, grpc.aio coroutines
and async generators) implements the same behaviour.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc

from protoreq import USE_CLIENT_DEFAULT, GrpcClient, GrpcResponse, UseClientDefault
from protos import chat_pb2, user_pb2
from tests.runtime.requests import GetUser

CHAT = "chat.ChatService"
_NO_DEADLINE_BEYOND = 1e6  # seconds; grpcio reports ~9.2e18 when the caller set none


@dataclass(frozen=True)
class Arrival:
    """One call at server B: the trace id it carried and its deadline (``time.monotonic()``)."""

    trace_id: str | None
    time_remaining: float | None
    deadline: float | None


@dataclass
class Downstream:
    """Server B's ``GetUser``: records every arrival, answers at once."""

    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get_user(self, request: user_pb2.GetUserRequest, context: grpc.ServicerContext) -> Any:
        metadata = dict(context.invocation_metadata())
        remaining = context.time_remaining()
        deadline = None
        if remaining is not None and remaining < _NO_DEADLINE_BEYOND:
            deadline = time.monotonic() + remaining
        trace_id = metadata.get("x-trace-id")
        arrival = Arrival(
            trace_id=trace_id if isinstance(trace_id, str) else None,
            time_remaining=remaining,
            deadline=deadline,
        )
        with self.lock:
            self.arrivals.append(arrival)
        return user_pb2.User(id=request.user_id)

    def handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(
            "user.UserService",
            {
                "GetUser": grpc.unary_unary_rpc_method_handler(
                    self.get_user,
                    request_deserializer=user_pb2.GetUserRequest.FromString,
                    response_serializer=user_pb2.User.SerializeToString,
                )
            },
        )


@dataclass
class Relay:
    """Server A's record: the outcome of every call its handlers made to B."""

    downstream: GrpcClient
    timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT
    """The timeout of A's own requests: the client's default, or none (only the scope's)."""
    outcomes: list[GrpcResponse[Any]] = field(default_factory=list)

    def ask(self) -> None:
        self.outcomes.append(self.downstream.call(GetUser("hop", timeout=self.timeout)))

    async def ask_async(self) -> None:
        request = GetUser("hop", timeout=self.timeout)
        self.outcomes.append(await self.downstream.call_async(request))


class SyncRelayChat:
    """Plain grpcio handlers (for ``grpc.server``, or run in grpc.aio's thread pool)."""

    def __init__(self, relay: Relay) -> None:
        self._relay = relay

    def send(self, request: chat_pb2.ChatMessage, context: grpc.ServicerContext) -> Any:
        self._relay.ask()
        self._relay.ask()  # two calls of one handler share its one trace id
        return chat_pb2.ChatMessage(seq=request.seq)

    def subscribe(
        self, request: chat_pb2.SubscribeRequest, context: grpc.ServicerContext
    ) -> Iterator[chat_pb2.ChatMessage]:
        for seq in range(request.count):
            self._relay.ask()  # a later step of the response generator
            yield chat_pb2.ChatMessage(seq=seq)

    def upload(
        self, requests: Iterable[chat_pb2.ChatMessage], context: grpc.ServicerContext
    ) -> Any:
        count = 0
        for _ in requests:
            self._relay.ask()
            count += 1
        return chat_pb2.UploadSummary(count=count)

    def converse(
        self, requests: Iterable[chat_pb2.ChatMessage], context: grpc.ServicerContext
    ) -> Iterator[chat_pb2.ChatMessage]:
        for message in requests:
            self._relay.ask()
            yield chat_pb2.ChatMessage(seq=message.seq)

    def handler(self) -> grpc.GenericRpcHandler:
        return chat_handler(self.send, self.subscribe, self.upload, self.converse)


class AsyncRelayChat:
    """grpc.aio handlers: coroutines for unary responses, async generators for streams."""

    def __init__(self, relay: Relay) -> None:
        self._relay = relay

    async def send(self, request: chat_pb2.ChatMessage, context: Any) -> Any:
        await self._relay.ask_async()
        await self._relay.ask_async()
        return chat_pb2.ChatMessage(seq=request.seq)

    async def subscribe(
        self, request: chat_pb2.SubscribeRequest, context: Any
    ) -> AsyncIterator[chat_pb2.ChatMessage]:
        for seq in range(request.count):
            await self._relay.ask_async()
            yield chat_pb2.ChatMessage(seq=seq)

    async def upload(self, requests: AsyncIterator[chat_pb2.ChatMessage], context: Any) -> Any:
        count = 0
        async for _ in requests:
            await self._relay.ask_async()
            count += 1
        return chat_pb2.UploadSummary(count=count)

    async def converse(
        self, requests: AsyncIterator[chat_pb2.ChatMessage], context: Any
    ) -> AsyncIterator[chat_pb2.ChatMessage]:
        async for message in requests:
            await self._relay.ask_async()
            yield chat_pb2.ChatMessage(seq=message.seq)

    def handler(self) -> grpc.GenericRpcHandler:
        return chat_handler(self.send, self.subscribe, self.upload, self.converse)


def chat_handler(send: Any, subscribe: Any, upload: Any, converse: Any) -> grpc.GenericRpcHandler:
    message = chat_pb2.ChatMessage
    return grpc.method_handlers_generic_handler(
        CHAT,
        {
            "Send": grpc.unary_unary_rpc_method_handler(
                send, message.FromString, message.SerializeToString
            ),
            "Subscribe": grpc.unary_stream_rpc_method_handler(
                subscribe, chat_pb2.SubscribeRequest.FromString, message.SerializeToString
            ),
            "Upload": grpc.stream_unary_rpc_method_handler(
                upload, message.FromString, chat_pb2.UploadSummary.SerializeToString
            ),
            "Converse": grpc.stream_stream_rpc_method_handler(
                converse, message.FromString, message.SerializeToString
            ),
        },
    )
