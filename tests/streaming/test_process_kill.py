"""The server process is SIGKILLed mid-call: every kind ends with a status, promptly, no hang.

The client's deadline (20 s) is far beyond the asserted time, so a hang would
show as a slow DEADLINE_EXCEEDED instead of the UNAVAILABLE a dropped
connection gives.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from protoreq import GrpcClient
from protos import chat_pb2
from protos.chat_protoreq import (
    ConverseGrpcRequest,
    SendGrpcRequest,
    SubscribeGrpcRequest,
    UploadGrpcRequest,
)
from tests.streaming.conftest import AnyStream, ChatProcess, Driver

pytestmark = pytest.mark.timeout(30)

PROMPTLY = 5.0


@pytest.fixture
def doomed_client(chat_process: ChatProcess, drive: Driver) -> Iterator[GrpcClient]:
    grpc_client = GrpcClient(chat_process.target, timeout=20)
    try:
        yield grpc_client
    finally:
        if drive.is_async:
            drive.run(grpc_client.aclose())
        else:
            grpc_client.close()


def chat(count: int) -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=i, text=f"m{i}") for i in range(count)]


def test_server_streaming(
    drive: Driver, doomed_client: GrpcClient, chat_process: ChatProcess
) -> None:
    def kill_after_three(stream: AnyStream, message: chat_pb2.ChatMessage) -> None:
        if message.seq == 2:
            chat_process.kill()

    request = SubscribeGrpcRequest(room="r", count=1000, metadata={"x-delay": "0.01"})
    started = time.monotonic()
    done = drive.stream(doomed_client, request, on_message=kill_after_three)

    assert done.stream.status_code() is grpc.StatusCode.UNAVAILABLE
    assert [m.seq for m in done.messages][:3] == [
        0,
        1,
        2,
    ]  # kept; a few more may have been in flight
    assert len(done.messages) < 1000
    assert time.monotonic() - started < PROMPTLY


def test_client_streaming(
    drive: Driver, doomed_client: GrpcClient, chat_process: ChatProcess
) -> None:
    def kill_after_five(sent: int) -> None:
        if sent == 5:
            chat_process.kill()

    messages = drive.messages(chat(500), delay=0.01, after_each=kill_after_five)
    started = time.monotonic()
    response = drive.call(doomed_client, UploadGrpcRequest(messages=messages))

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - started < PROMPTLY


def test_bidi_streaming(
    drive: Driver, doomed_client: GrpcClient, chat_process: ChatProcess
) -> None:
    def kill_after_three(stream: AnyStream, message: chat_pb2.ChatMessage) -> None:
        if message.seq == 3:
            chat_process.kill()

    messages = drive.messages(chat(500), delay=0.01)
    started = time.monotonic()
    done = drive.stream(
        doomed_client, ConverseGrpcRequest(messages=messages), on_message=kill_after_three
    )

    assert done.stream.status_code() is grpc.StatusCode.UNAVAILABLE
    assert [m.seq for m in done.messages][:3] == [1, 2, 3]
    assert time.monotonic() - started < PROMPTLY


def test_unary_for_comparison(
    drive: Driver, doomed_client: GrpcClient, chat_process: ChatProcess
) -> None:
    killer = threading.Timer(0.3, chat_process.kill)
    killer.start()
    started = time.monotonic()
    try:
        response = drive.call(doomed_client, SendGrpcRequest(text="hi", metadata={"x-delay": "10"}))
    finally:
        killer.join()

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - started < PROMPTLY
