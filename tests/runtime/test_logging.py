"""One structured record per call; secrets never reach a log record."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from protoreq import NO_RETRY, GrpcClient, JsonLogFormatter, RequestContext
from tests.runtime.conftest import Send
from tests.runtime.requests import GetUser
from tests.support.servers import unused_port

SECRET = "s3cr3t-value-that-must-not-leak"


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self.setFormatter(JsonLogFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


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


def outcome_records(handler: Captured) -> list[logging.LogRecord]:
    return [record for record in handler.records if hasattr(record, "rpc_status")]


def test_one_record_per_call_with_fields(target: str, send: Send, captured: Captured) -> None:
    with GrpcClient(target) as client, RequestContext.scope(trace_id="log-trace"):
        send(client, GetUser("123"))

    (record,) = outcome_records(captured)
    assert record.levelno == logging.INFO
    fields = record.__dict__
    assert fields["rpc_target"] == target
    assert fields["rpc_service"] == "user.UserService"
    assert fields["rpc_method"] == "GetUser"
    assert fields["rpc_status"] == "OK"
    assert fields["rpc_attempt"] == 1
    assert fields["trace_id"] == "log-trace"
    assert fields["rpc_duration_ms"] > 0


def test_failure_logged_as_warning(send: Send, captured: Captured) -> None:
    with GrpcClient(f"127.0.0.1:{unused_port()}", retry=NO_RETRY) as client:
        send(client, GetUser("1", timeout=5))

    (record,) = outcome_records(captured)
    assert record.levelno == logging.WARNING
    assert record.__dict__["rpc_status"] == "UNAVAILABLE"


@pytest.mark.parametrize(
    "key",
    ["authorization", "cookie", "x-api-key", "x-auth-token", "x-client-secret", "db-password"],
)
def test_sensitive_metadata_is_redacted(
    target: str, send: Send, captured: Captured, key: str
) -> None:
    metadata: dict[str, str | bytes] = {key: f"Bearer {SECRET}", "x-session-bin": SECRET.encode()}
    with GrpcClient(target) as client:
        send(client, GetUser("1", metadata=metadata))

    (record,) = outcome_records(captured)
    assert record.__dict__["rpc_metadata"][key] == "[REDACTED]"
    assert record.__dict__["rpc_metadata"]["x-session-bin"] == "[REDACTED]"
    everything = "\n".join(captured.lines) + repr([r.__dict__ for r in captured.records])
    assert SECRET not in everything


def test_payloads_only_at_debug(target: str, send: Send, captured: Captured) -> None:
    logging.getLogger("protoreq").setLevel(logging.INFO)
    with GrpcClient(target) as client:
        send(client, GetUser("payload-marker"))

    assert "payload-marker" not in "\n".join(captured.lines)


def test_debug_logs_payloads_and_json_lines_parse(
    target: str, send: Send, captured: Captured
) -> None:
    with GrpcClient(target) as client:
        send(client, GetUser("payload-marker"))

    parsed = [json.loads(line) for line in captured.lines]
    assert any("payload-marker" in entry["message"] for entry in parsed)
    outcome = next(entry for entry in parsed if "rpc_status" in entry)
    assert outcome["logger"] == "protoreq"
    assert outcome["rpc_method"] == "GetUser"


def test_silent_without_configuration(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    with GrpcClient(target) as client:
        client.call(GetUser("1"))
    captured_output = capsys.readouterr()
    assert "GetUser" not in captured_output.err + captured_output.out
