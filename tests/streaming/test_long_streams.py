"""10,000-message streams of every kind, sync and async, against a server in its own process.

Nothing is buffered by the stream: the consumer keeps what it wants (here,
everything, to check order and completeness).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from protoreq import GrpcClient
from protos import chat_pb2
from protos.chat_protoreq import ConverseGrpcRequest, SubscribeGrpcRequest, UploadGrpcRequest
from tests.streaming.conftest import Driver

pytestmark = pytest.mark.timeout(60)

COUNT = 10_000


@pytest.fixture
def fast_client(fast_chat_target: str, drive: Driver) -> Iterator[GrpcClient]:
    grpc_client = GrpcClient(fast_chat_target, timeout=40)
    try:
        yield grpc_client
    finally:
        if drive.is_async:
            drive.run(grpc_client.aclose())
        else:
            grpc_client.close()


def chat(count: int) -> Iterator[chat_pb2.ChatMessage]:
    return (chat_pb2.ChatMessage(seq=i, text=f"m{i}") for i in range(count))


def test_server_streaming(drive: Driver, fast_client: GrpcClient) -> None:
    done = drive.stream(fast_client, SubscribeGrpcRequest(room="big", count=COUNT))

    assert done.stream.is_success()
    assert [m.seq for m in done.messages] == list(range(COUNT))
    assert (done.stream.sent_count(), done.stream.received_count()) == (1, COUNT)
    assert done.stream.trailing_metadata()["x-sent"] == str(COUNT)


def test_client_streaming(drive: Driver, fast_client: GrpcClient) -> None:
    response = drive.call(fast_client, UploadGrpcRequest(messages=drive.messages(chat(COUNT))))

    assert response.is_success()
    summary = response.message()
    assert (summary.count, summary.last_seq) == (COUNT, COUNT - 1)
    assert summary.joined.split(",") == [f"m{i}" for i in range(COUNT)]


def test_bidi_streaming(drive: Driver, fast_client: GrpcClient) -> None:
    done = drive.stream(fast_client, ConverseGrpcRequest(messages=drive.messages(chat(COUNT))))

    assert done.stream.is_success()
    assert [m.seq for m in done.messages] == list(range(1, COUNT + 1))
    assert (done.stream.sent_count(), done.stream.received_count()) == (COUNT, COUNT)
