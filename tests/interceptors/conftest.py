"""Interceptor tests: every kind of call, sync and async, against a real ChatService.

``run(client, kind, mode, metadata=...)`` sends one call of ``kind`` (``unary``,
``server_streaming``, ``client_streaming``, ``bidi``) through ``call()`` /
``stream()`` or their async twins and hands back how it ended and the messages
received, so one test body covers the eight combinations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from protoreq import GrpcClient
from tests.streaming.chat_service import ChatProgress, ChatService
from tests.support.servers import serve

KINDS = ("unary", "server_streaming", "client_streaming", "bidi")
MODES = ("sync", "async")


@dataclass
class Outcome:
    code: grpc.StatusCode
    details: str
    received: list[Any]
    trace_id: str | None
    attempts: int


@pytest.fixture
def progress() -> ChatProgress:
    return ChatProgress()


@pytest.fixture
def chat_target(progress: ChatProgress) -> Iterator[str]:
    with serve(ChatService(progress).handler()) as address:
        yield address


def request_for(kind: str, metadata: Mapping[str, str] | None = None) -> Any:
    from protos import chat_pb2, chat_protoreq  # noqa: PLC0415  # compiled before collection

    messages = [chat_pb2.ChatMessage(seq=n, text=f"m{n}") for n in range(3)]
    if kind == "unary":
        return chat_protoreq.SendGrpcRequest(seq=1, text="hi", metadata=metadata)
    if kind == "server_streaming":
        return chat_protoreq.SubscribeGrpcRequest(room="r", count=3, metadata=metadata)
    if kind == "client_streaming":
        return chat_protoreq.UploadGrpcRequest(messages=messages, metadata=metadata)
    return chat_protoreq.ConverseGrpcRequest(messages=messages, metadata=metadata)


def run(
    client: GrpcClient, kind: str, mode: str, metadata: Mapping[str, str] | None = None
) -> Outcome:
    """Send one call of ``kind`` the ``mode`` way and wait for its end."""
    request = request_for(kind, metadata)
    if mode == "sync":
        if kind in ("unary", "client_streaming"):
            response = client.call(request)
            received = [response.message()] if response.is_success() else []
            return Outcome(
                response.status_code(),
                response.details(),
                received,
                response.trace_id(),
                response.attempts(),
            )
        stream = client.stream(request)
        received = list(stream)
        return Outcome(stream.status_code(), stream.details(), received, stream.trace_id(), 1)
    return asyncio.run(_run_async(client, kind, request))


async def _run_async(client: GrpcClient, kind: str, request: Any) -> Outcome:
    try:
        return await _send_async(client, kind, request)
    finally:
        for _ in range(50):  # let done callbacks (and the tasks they start) run: no I/O left
            await asyncio.sleep(0)


async def _send_async(client: GrpcClient, kind: str, request: Any) -> Outcome:
    if kind in ("unary", "client_streaming"):
        response = await client.call_async(request)
        received = [response.message()] if response.is_success() else []
        return Outcome(
            response.status_code(),
            response.details(),
            received,
            response.trace_id(),
            response.attempts(),
        )
    stream = client.stream_async(request)
    received = [message async for message in stream]
    return Outcome(stream.status_code(), stream.details(), received, stream.trace_id(), 1)
