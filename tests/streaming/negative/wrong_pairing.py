"""mypy must reject every line marked ``# E: <code>``: a request sent with the wrong method.

Not part of the main mypy run (pyproject excludes ``negative/``);
``tests/streaming/test_typing.py`` runs mypy on this file and compares the
errors with the markers. At run time each of these raises InvalidRequestError.
"""

from __future__ import annotations

from protoreq import GrpcClient
from protos import chat_pb2
from protos.chat_protoreq import (
    ConverseGrpcRequest,
    SendGrpcRequest,
    SubscribeGrpcRequest,
    UploadGrpcRequest,
)


def sync_pairings(client: GrpcClient) -> None:
    client.call(SubscribeGrpcRequest(room="r"))  # E: arg-type
    client.call(ConverseGrpcRequest(messages=[]))  # E: arg-type
    client.stream(SendGrpcRequest(text="hi"))  # E: arg-type
    client.stream(UploadGrpcRequest(messages=[]))  # E: arg-type


async def async_pairings(client: GrpcClient) -> None:
    await client.call_async(SubscribeGrpcRequest(room="r"))  # E: arg-type
    client.stream_async(SendGrpcRequest(text="hi"))  # E: arg-type


def wrong_answer_types(client: GrpcClient) -> None:
    reply: chat_pb2.UploadSummary = client.call(SendGrpcRequest()).message()  # E: assignment
    for message in client.stream(SubscribeGrpcRequest(room="r")):
        summary: chat_pb2.UploadSummary = message  # E: assignment
        del summary
    del reply
