"""What mypy sees: the fakes' scripting is typed by each request class's response type.

The positive checks below are ``assert_type`` calls, verified by the main
``mypy --strict`` run (and harmless at run time). The negative ones live in
``negative/`` and are type-checked here in a subprocess.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import assert_type

import grpc
import pytest

from protoreq import GrpcClient, GrpcResponse
from protoreq.request import AnyRequest
from protoreq.testing import Failure, FakeGrpcClient, FakeGrpcServer, ReceivedCall, SentCall
from protos import chat_pb2, user_pb2
from tests.support.protos import REPO_ROOT
from tests.testing.requests import AuthenticatedGetUser, Converse, GetUser, Subscribe, Upload

NOT_FOUND = grpc.StatusCode.NOT_FOUND
NEGATIVE = Path(__file__).parent / "negative" / "wrong_scripted_types.py"
JOHN = user_pb2.User(id="1")


def test_scripting_types_flow_from_the_request_class() -> None:
    fake = FakeGrpcClient()
    # A callable answer receives the scripted class itself (the negative cases show that
    # it is not Any there: reading a missing attribute is an error).
    fake.respond(GetUser, lambda request: user_pb2.User(id=request.user_id))
    fake.respond(GetUser, lambda request: JOHN if request.user_id else Failure(NOT_FOUND))

    def for_any_get_user(request: GetUser) -> user_pb2.User:
        return JOHN

    fake.respond(GetUser, for_any_get_user)
    fake.respond(AuthenticatedGetUser, for_any_get_user)  # a base-class parameter is fine

    def upload(request: Upload, messages: Sequence[chat_pb2.ChatMessage]) -> chat_pb2.UploadSummary:
        return chat_pb2.UploadSummary(count=len(messages))

    def converse(
        request: Converse, messages: Iterator[chat_pb2.ChatMessage]
    ) -> Iterator[chat_pb2.ChatMessage | Failure]:
        yield from messages
        yield Failure(NOT_FOUND)

    fake.respond(Upload, upload)
    fake.respond(Converse, converse)
    fake.respond(Subscribe, lambda request: [chat_pb2.ChatMessage(text=request.room)])

    assert_type(fake.call(GetUser("1")), GrpcResponse[user_pb2.User])
    assert_type(fake.requests_of(GetUser), list[GetUser])
    assert_type(fake.requests, list[AnyRequest])
    assert_type(fake.calls, list[SentCall])
    client: GrpcClient = fake  # substitutable where a GrpcClient is expected
    assert client is fake


def test_the_fake_server_types_what_a_servicer_would_see() -> None:
    server = FakeGrpcServer()
    server.respond(GetUser, lambda message: user_pb2.User(id=message.user_id))
    server.respond(Upload, lambda messages: chat_pb2.UploadSummary(count=len(messages)))
    server.respond(Subscribe, lambda message: [chat_pb2.ChatMessage(text=message.room)])
    server.respond(Converse, lambda messages: (m for m in messages))
    assert_type(server.messages_of(GetUser), list[user_pb2.GetUserRequest])
    assert_type(server.messages_of(Converse), list[chat_pb2.ChatMessage])
    assert_type(server.calls, list[ReceivedCall])


def test_mypy_rejects_wrongly_typed_scripts(
    compiled_protos: Path, pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    expected = _expected_errors(NEGATIVE)
    assert len(expected) >= 10
    cache_provider = getattr(pytestconfig, "cache", None)  # absent with -p no:cacheprovider
    cache = cache_provider.mkdir("protoreq-negative-mypy") if cache_provider else tmp_path
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), str(NEGATIVE)],
        check=False,
        cwd=REPO_ROOT,
        env={**os.environ, "MYPYPATH": f"runtime{os.pathsep}{compiled_protos}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = _reported_errors(result.stdout)
    assert found == expected, result.stdout + result.stderr


def _expected_errors(path: Path) -> dict[int, set[str]]:
    expected: dict[int, set[str]] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        marker = re.search(r"# E: ([a-z-]+(?:, [a-z-]+)*)$", line)
        if marker:
            expected[number] = {code.strip() for code in marker.group(1).split(",")}
    return expected


def _reported_errors(output: str) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for match in re.finditer(r"^.*?:(\d+): error: .*\[([a-z-]+)\]$", output, re.MULTILINE):
        found.setdefault(int(match.group(1)), set()).add(match.group(2))
    return found
