"""The testing fake and the discovery client run the same protoreq interceptor chain."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from protoreq import (
    ClientCall,
    GrpcResponse,
    Interceptor,
    InvalidInterceptorError,
    ServiceDiscoveryGrpcClient,
    StaticServiceRegistry,
)
from protoreq.testing import FakeGrpcClient
from tests.interceptors.conftest import request_for
from tests.interceptors.test_grpc_interceptors import SyncHeaderInterceptor
from tests.streaming.chat_service import ChatProgress


class Tagging(Interceptor):
    def __init__(self) -> None:
        self.ends: list[str] = []

    def on_start(self, call: ClientCall) -> GrpcResponse[Any] | None:
        call.set_metadata("x-tag", "tagged")
        return None

    def on_end(self, call: ClientCall, outcome: GrpcResponse[Any]) -> None:
        self.ends.append(f"{call.rpc.method} {outcome.status_code().name}")


def test_the_fake_runs_protoreq_interceptors_for_calls_and_streams() -> None:
    from protos import chat_pb2, chat_protoreq  # noqa: PLC0415

    tagging = Tagging()
    fake = FakeGrpcClient(interceptors=[tagging])
    fake.respond(chat_protoreq.SendGrpcRequest, chat_pb2.ChatMessage(text="ok"))
    fake.respond(chat_protoreq.SubscribeGrpcRequest, [chat_pb2.ChatMessage(text="a")])
    assert fake.call(request_for("unary")).is_success()
    assert [m.text for m in fake.stream(request_for("server_streaming"))] == ["a"]
    assert asyncio.run(fake.call_async(request_for("unary"))).is_success()
    assert fake.calls[0].metadata["x-tag"] == "tagged"  # what would have been sent
    assert tagging.ends == ["Send OK", "Subscribe OK", "Send OK"]


def test_the_fake_refuses_grpcio_interceptors_it_cannot_run() -> None:
    with pytest.raises(InvalidInterceptorError, match="opens none"):
        FakeGrpcClient(interceptors=[SyncHeaderInterceptor()])  # type: ignore[list-item]


def test_discovery_clients_pass_interceptors_to_every_client_they_make(
    chat_target: str, progress: ChatProgress
) -> None:
    tagging = Tagging()
    registry = StaticServiceRegistry({"chat.ChatService": chat_target})
    with ServiceDiscoveryGrpcClient(registry, interceptors=[tagging]) as client:
        response = client.call(request_for("unary"))
    assert response.status_code() is grpc.StatusCode.OK
    assert progress.metadata[0]["x-tag"] == "tagged"
    assert tagging.ends == ["Send OK"]
