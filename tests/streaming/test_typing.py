"""Types follow the request: ``call`` answers ``GrpcResponse[T]``, ``stream`` a ``GrpcStream[T]``.

The ``assert_type`` lines are checked by the project's normal ``mypy --strict``
run (and executed here against a real server); the wrong pairings live in
``negative/wrong_pairing.py``, which the last test hands to mypy expecting an
error on each marked line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import assert_type

import pytest

from protoreq import (
    AsyncGrpcStream,
    GrpcClient,
    GrpcResponse,
    GrpcStream,
    ServerStreamingGrpcRequest,
)
from protos import chat_pb2
from protos.chat_protoreq import (
    ConverseGrpcRequest,
    SendGrpcRequest,
    SubscribeGrpcRequest,
    UploadGrpcRequest,
)
from tests.support.protos import REPO_ROOT

NEGATIVE = Path(__file__).parent / "negative" / "wrong_pairing.py"
_MARKER = re.compile(r"#\s*E:\s*([\w-]+)")
_MYPY_ERROR = re.compile(r"wrong_pairing\.py:(\d+): error: .*\[([\w-]+)\]$", re.MULTILINE)


class HandWrittenSubscribe(
    ServerStreamingGrpcRequest[chat_pb2.SubscribeRequest, chat_pb2.ChatMessage]
):
    """The original design's style: names only; the runtime finds the RPC in the descriptor pool."""

    def service_name(self) -> str:
        return "chat.ChatService"

    def method_name(self) -> str:
        return "Subscribe"

    def message(self) -> chat_pb2.SubscribeRequest:
        return chat_pb2.SubscribeRequest(room="hand", count=2)


def test_sync_types(chat_target: str) -> None:
    with GrpcClient(chat_target) as client:
        reply = client.call(SendGrpcRequest(seq=1, text="hi"))
        assert_type(reply, GrpcResponse[chat_pb2.ChatMessage])
        assert_type(reply.message(), chat_pb2.ChatMessage)

        summary = client.call(UploadGrpcRequest(messages=[chat_pb2.ChatMessage(seq=7)]))
        assert_type(summary, GrpcResponse[chat_pb2.UploadSummary])
        assert summary.message().last_seq == 7

        with client.stream(SubscribeGrpcRequest(room="r", count=2)) as stream:
            assert_type(stream, GrpcStream[chat_pb2.ChatMessage])
            for message in stream:
                assert_type(message, chat_pb2.ChatMessage)
        assert stream.is_success()

        conversation = client.stream(ConverseGrpcRequest(messages=[chat_pb2.ChatMessage(seq=1)]))
        assert_type(conversation, GrpcStream[chat_pb2.ChatMessage])
        assert [m.seq for m in conversation] == [2]

        hand_written = client.stream(HandWrittenSubscribe())
        assert_type(hand_written, GrpcStream[chat_pb2.ChatMessage])
        assert [m.text for m in hand_written] == ["hand 0", "hand 1"]


async def test_async_types(chat_target: str) -> None:
    async with GrpcClient(chat_target) as client:
        reply = await client.call_async(SendGrpcRequest(seq=1, text="hi"))
        assert_type(reply, GrpcResponse[chat_pb2.ChatMessage])

        summary = await client.call_async(UploadGrpcRequest(messages=[chat_pb2.ChatMessage()]))
        assert_type(summary, GrpcResponse[chat_pb2.UploadSummary])

        async with client.stream_async(SubscribeGrpcRequest(room="r", count=2)) as stream:
            assert_type(stream, AsyncGrpcStream[chat_pb2.ChatMessage])
            async for message in stream:
                assert_type(message, chat_pb2.ChatMessage)
        assert stream.received_count() == 2

        conversation = client.stream_async(ConverseGrpcRequest(messages=[chat_pb2.ChatMessage()]))
        assert_type(conversation, AsyncGrpcStream[chat_pb2.ChatMessage])
        assert [m.seq async for m in conversation] == [1]


def test_scripted_streams_are_typed_by_their_messages() -> None:
    stream = GrpcStream.from_messages([chat_pb2.ChatMessage(seq=1)])
    assert_type(stream, GrpcStream[chat_pb2.ChatMessage])
    async_stream = AsyncGrpcStream.from_messages([chat_pb2.UploadSummary()])
    assert_type(async_stream, AsyncGrpcStream[chat_pb2.UploadSummary])


def expected_errors() -> set[tuple[int, str]]:
    lines = NEGATIVE.read_text().splitlines()
    return {
        (number, marker.group(1))
        for number, line in enumerate(lines, start=1)
        if (marker := _MARKER.search(line))
    }


@pytest.mark.timeout(120)
def test_wrong_pairings_are_mypy_errors(compiled_protos: Path) -> None:
    mypy_path = [REPO_ROOT / "runtime", REPO_ROOT / "generator", compiled_protos]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(REPO_ROOT / "pyproject.toml"),
            "--cache-dir",
            str(REPO_ROOT / ".mypy_cache"),  # shared with the main run: warm, and atomic writes
            "--show-error-codes",
            "--no-pretty",
            str(NEGATIVE),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "MYPYPATH": os.pathsep.join(map(str, mypy_path))},
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )

    found = {(int(line), code) for line, code in _MYPY_ERROR.findall(result.stdout)}
    assert len(expected_errors()) >= 6
    assert found == expected_errors(), result.stdout + result.stderr
    assert result.returncode == 1
