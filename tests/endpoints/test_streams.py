"""Streams on protoreq's endpoints: one that outlives its endpoint's removal runs to its end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from protoreq import GrpcClient, ServerStreamingGrpcRequest, ServiceDiscoveryGrpcClient
from protoreq.transport.endpoints import Endpoint, EndpointSet
from protos import chat_pb2
from tests.endpoints.conftest import HandLiveRegistry

pytestmark = pytest.mark.timeout(60)

CHAT = "chat.ChatService"
COUNT = 5


class SlowSubscribe(ServerStreamingGrpcRequest[chat_pb2.SubscribeRequest, chat_pb2.ChatMessage]):
    """``COUNT`` messages, ``delay`` seconds apart."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay

    def service_name(self) -> str:
        return CHAT

    def method_name(self) -> str:
        return "Subscribe"

    def message(self) -> chat_pb2.SubscribeRequest:
        return chat_pb2.SubscribeRequest(room="lobby", count=COUNT)

    def metadata(self) -> dict[str, Any]:
        return {"x-delay": str(self.delay)} if self.delay else {}


@dataclass
class ChatBackend:
    address: str
    progress: Any

    @property
    def streams(self) -> int:
        with self.progress.lock:
            return len(self.progress.metadata)


@pytest.fixture
def chats(compiled_protos: object) -> Iterator[list[ChatBackend]]:
    from tests.streaming.chat_service import ChatProgress, ChatService  # noqa: PLC0415
    from tests.support.servers import serve  # noqa: PLC0415

    with ExitStack() as stack:
        found = []
        for _ in range(2):
            progress = ChatProgress()
            address = stack.enter_context(serve(ChatService(progress).handler()))
            found.append(ChatBackend(address, progress))
        yield found


def _only_endpoint(client: GrpcClient) -> Endpoint:
    """The client's one endpoint, once its registry's first answer has come (on its thread)."""
    endpoints = client._channels
    assert isinstance(endpoints, EndpointSet)
    until = time.monotonic() + 10
    while not endpoints._live:
        assert time.monotonic() < until, "the registry's first answer never came"
        time.sleep(0.01)
    (endpoint,) = endpoints._live
    return endpoint


def _wait_closed(endpoint: Endpoint) -> None:
    until = time.monotonic() + 10
    while not endpoint.channels.closed:
        assert time.monotonic() < until, "the retired endpoint's channels never closed"
        time.sleep(0.01)


def test_a_stream_on_a_removed_endpoint_finishes_then_its_channels_close(
    registry: HandLiveRegistry, chats: list[ChatBackend]
) -> None:
    old, new = chats
    registry.set(CHAT, old.address)
    with ServiceDiscoveryGrpcClient(registry, timeout=10) as services:
        client = services.get_client(CHAT)
        retired = _only_endpoint(client)
        with client.stream(SlowSubscribe(delay=0.1)) as stream:
            received = [next(iter(stream))]
            registry.set(CHAT, new.address)
            with client.stream(SlowSubscribe()) as elsewhere:
                assert len(list(elsewhere)) == COUNT
            open_while_streaming = not retired.channels.closed
            received.extend(stream)
        assert stream.is_success()
        _wait_closed(retired)

    assert len(received) == COUNT
    assert open_while_streaming
    assert (old.streams, new.streams) == (1, 1)


def test_an_async_stream_on_a_removed_endpoint_finishes_then_its_channels_close(
    registry: HandLiveRegistry, chats: list[ChatBackend]
) -> None:
    old, new = chats
    registry.set(CHAT, old.address)

    async def scenario() -> tuple[int, bool, bool, Endpoint]:
        async with ServiceDiscoveryGrpcClient(registry, timeout=10) as services:
            client = services.get_client(CHAT)
            retired = _only_endpoint(client)
            received = 0
            async with client.stream_async(SlowSubscribe(delay=0.1)) as stream:
                async for _ in stream:
                    received += 1
                    if received == 1:
                        registry.set(CHAT, new.address)  # returns once the client knows
                        async with client.stream_async(SlowSubscribe()) as elsewhere:
                            assert len([m async for m in elsewhere]) == COUNT
                        open_while_streaming = not retired.channels.closed
            for _ in range(500):
                if retired.channels.closed:
                    break
                await asyncio.sleep(0.01)
            return received, stream.is_success(), open_while_streaming, retired

    received, succeeded, open_while_streaming, retired = asyncio.run(scenario())
    assert received == COUNT
    assert succeeded
    assert open_while_streaming
    assert retired.channels.closed
    assert (old.streams, new.streams) == (1, 1)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_stream_with_no_endpoint_ends_unavailable_naming_the_service(
    registry: HandLiveRegistry, kind: str
) -> None:
    with ServiceDiscoveryGrpcClient(registry) as services:
        client = services.get_client(CHAT)
        if kind == "sync":
            stream: Any = client.stream(SlowSubscribe())
            assert list(stream) == []
        else:

            async def consume() -> Any:
                opened = client.stream_async(SlowSubscribe())
                assert [m async for m in opened] == []
                return opened

            stream = asyncio.run(consume())

    assert stream.status_code() == grpc.StatusCode.UNAVAILABLE
    assert f"no live endpoint for {CHAT}" in stream.details()
