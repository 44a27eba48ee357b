"""Streams behave as unary calls do: deadlines, metadata, trace correlation, one log record."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import grpc
import pytest

from protoreq import GrpcClient, InvalidMetadataError, RequestContext
from protos import chat_pb2
from protos.chat_protoreq import ConverseGrpcRequest, SubscribeGrpcRequest, UploadGrpcRequest
from tests.streaming.chat_service import ChatProgress
from tests.streaming.conftest import AnyStream, Driver
from tests.support.deadlines import server_time_remaining_bound

pytestmark = pytest.mark.timeout(30)

SECRET = "stream-secret-that-must-not-leak"


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def outcomes(self) -> list[logging.LogRecord]:
        """The per-call records (payload records at DEBUG carry no status)."""
        return [record for record in self.records if hasattr(record, "rpc_status")]


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    logger = logging.getLogger("protoreq")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def chat(count: int) -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=i, text=f"m{i}") for i in range(count)]


# -- logging ----------------------------------------------------------------------------------


def test_one_record_per_stream_at_its_end(
    drive: Driver, client: GrpcClient, captured: Captured
) -> None:
    def nothing_logged_yet(stream: AnyStream, message: chat_pb2.ChatMessage) -> None:
        assert captured.outcomes() == []

    done = drive.stream(
        client, SubscribeGrpcRequest(room="r", count=3), on_message=nothing_logged_yet
    )

    (record,) = captured.outcomes()
    fields = record.__dict__
    assert record.levelno == logging.INFO
    assert (fields["rpc_service"], fields["rpc_method"]) == ("chat.ChatService", "Subscribe")
    assert fields["rpc_status"] == "OK"
    assert (fields["rpc_messages_sent"], fields["rpc_messages_received"]) == (1, 3)
    assert fields["trace_id"] == done.stream.trace_id()
    assert fields["rpc_attempt"] == 1
    assert fields["rpc_duration_ms"] > 0


def test_failed_stream_is_one_warning_with_counts(
    drive: Driver, client: GrpcClient, captured: Captured
) -> None:
    request = SubscribeGrpcRequest(room="r", count=10, metadata={"x-fail-after": "2"})
    drive.stream(client, request)

    (record,) = captured.outcomes()
    assert record.levelno == logging.WARNING
    assert record.__dict__["rpc_status"] == "ABORTED"
    assert record.__dict__["rpc_details"] == "failed after 2 messages"
    assert record.__dict__["rpc_messages_received"] == 2


def test_cancelled_stream_is_logged_once(
    drive: Driver, client: GrpcClient, captured: Captured
) -> None:
    def cancel(stream: AnyStream, message: chat_pb2.ChatMessage) -> None:
        stream.cancel()

    drive.stream(client, SubscribeGrpcRequest(room="r", count=100), on_message=cancel)

    (record,) = captured.outcomes()
    assert record.__dict__["rpc_status"] == "CANCELLED"
    assert record.__dict__["rpc_messages_received"] == 1


def test_bidi_and_client_streaming_records_count_both_ways(
    drive: Driver, client: GrpcClient, captured: Captured
) -> None:
    drive.stream(client, ConverseGrpcRequest(messages=drive.messages(chat(5))))
    drive.call(client, UploadGrpcRequest(messages=drive.messages(chat(4))))

    converse, upload = captured.outcomes()
    assert converse.__dict__["rpc_method"] == "Converse"
    assert (converse.__dict__["rpc_messages_sent"], converse.__dict__["rpc_messages_received"]) == (
        5,
        5,
    )
    assert upload.__dict__["rpc_method"] == "Upload"
    assert (upload.__dict__["rpc_messages_sent"], upload.__dict__["rpc_messages_received"]) == (
        4,
        1,
    )


def test_payloads_of_every_message_only_at_debug(
    drive: Driver, client: GrpcClient, captured: Captured
) -> None:
    drive.stream(client, ConverseGrpcRequest(messages=chat(2)))
    payloads = [r.getMessage() for r in captured.records if not hasattr(r, "rpc_status")]
    assert sum("sent" in line for line in payloads) == 2
    assert sum("received" in line for line in payloads) == 2

    captured.records.clear()
    logging.getLogger("protoreq").setLevel(logging.INFO)
    drive.stream(client, ConverseGrpcRequest(messages=chat(2)))
    assert [r for r in captured.records if not hasattr(r, "rpc_status")] == []


def test_secret_metadata_never_logged(
    drive: Driver, client: GrpcClient, captured: Captured, progress: ChatProgress
) -> None:
    request = SubscribeGrpcRequest(
        room="r", count=1, metadata={"authorization": f"Bearer {SECRET}"}
    )
    drive.stream(client, request)

    assert progress.metadata[0]["authorization"] == f"Bearer {SECRET}"  # sent as given
    (record,) = captured.outcomes()
    assert record.__dict__["rpc_metadata"]["authorization"] == "[REDACTED]"
    assert SECRET not in repr([r.__dict__ for r in captured.records])


# -- metadata, trace ids, deadlines ------------------------------------------------------------


def test_request_metadata_and_trace_id_reach_the_server(
    drive: Driver, client: GrpcClient, progress: ChatProgress
) -> None:
    with RequestContext.scope(trace_id="stream-trace-1"):
        done = drive.stream(
            client, ConverseGrpcRequest(messages=chat(1), metadata={"x-tenant": "acme"})
        )
        response = drive.call(client, UploadGrpcRequest(messages=chat(1)))

    assert done.stream.trace_id() == "stream-trace-1"
    assert response.trace_id() == "stream-trace-1"
    assert progress.trace_ids == ["stream-trace-1", "stream-trace-1"]
    assert progress.metadata[0]["x-tenant"] == "acme"


def test_fresh_trace_id_without_context(
    drive: Driver, client: GrpcClient, progress: ChatProgress
) -> None:
    done = drive.stream(client, SubscribeGrpcRequest(room="r", count=1))

    trace_id = done.stream.trace_id()
    assert trace_id is not None
    assert len(trace_id) == 32
    assert progress.trace_ids == [trace_id]


def test_invalid_metadata_raises_before_sending(
    drive: Driver, client: GrpcClient, progress: ChatProgress
) -> None:
    request = SubscribeGrpcRequest(room="r", count=1, metadata={"Bad Key": "v"})
    with pytest.raises(InvalidMetadataError, match="Bad Key"):
        drive.stream(client, request)
    assert progress.metadata == []


def test_request_timeout_covers_the_whole_stream(
    drive: Driver, client: GrpcClient, progress: ChatProgress
) -> None:
    drive.stream(client, SubscribeGrpcRequest(room="r", count=1, timeout=5))
    drive.stream(client, SubscribeGrpcRequest(room="r", count=1, timeout=None))

    with_deadline, without = progress.time_remaining
    assert with_deadline is not None
    assert 4 < with_deadline <= server_time_remaining_bound(5)
    assert without is None or without > 10**6  # grpcio reports "no deadline" as huge


def test_context_deadline_caps_the_stream(
    drive: Driver, client: GrpcClient, progress: ChatProgress
) -> None:
    request = SubscribeGrpcRequest(room="r", count=1000, metadata={"x-delay": "0.02"}, timeout=10)
    started = time.monotonic()
    with RequestContext.scope(timeout=0.4):
        done = drive.stream(client, request)

    assert done.stream.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0 < len(done.messages) < 1000
    assert time.monotonic() - started < 3
    remaining = progress.time_remaining[0]
    assert remaining is not None
    assert remaining <= server_time_remaining_bound(0.4)


def test_spent_context_deadline_ends_the_stream_without_sending(
    drive: Driver, client: GrpcClient, progress: ChatProgress, captured: Captured
) -> None:
    with RequestContext.scope(deadline=time.monotonic() - 1):
        done = drive.stream(client, SubscribeGrpcRequest(room="r", count=5))

    assert done.messages == []
    assert done.stream.is_finished()
    assert done.stream.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert progress.metadata == []
    assert len(captured.outcomes()) == 1
