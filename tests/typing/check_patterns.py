"""What mypy --strict must infer for long-running operations' types.

Checked by the project's mypy run, not collected by pytest. Pagers are typed
through generated classes: see ``generated/check_generated_api.py``.
"""

from __future__ import annotations

from typing import Any, assert_type

from google.protobuf import struct_pb2, timestamp_pb2

from protoreq import GrpcClient, GrpcResponse, OperationTypes, OperationWaiter

TYPES = OperationTypes(result_type=struct_pb2.Struct, metadata_type=timestamp_pb2.Timestamp)


def waits(client: GrpcClient, started: GrpcResponse[Any]) -> None:
    assert_type(TYPES, OperationTypes[struct_pb2.Struct, timestamp_pb2.Timestamp])
    assert_type(client.wait(started, TYPES, timeout=5), GrpcResponse[struct_pb2.Struct])
    waiter = OperationWaiter(client, started, TYPES)
    assert_type(waiter.metadata(), timestamp_pb2.Timestamp | None)
    assert_type(waiter.wait(), GrpcResponse[struct_pb2.Struct])
    OperationWaiter(client, started, TYPES, on_metadata=lambda meta: assert_type(meta.seconds, int))
    client.wait(started, struct_pb2.Struct)  # type: ignore[arg-type]


async def waits_async(client: GrpcClient, started: GrpcResponse[Any]) -> None:
    assert_type(await client.wait_async(started, TYPES), GrpcResponse[struct_pb2.Struct])
    assert_type(
        await OperationWaiter(client, started, TYPES).wait_async(timeout=1),
        GrpcResponse[struct_pb2.Struct],
    )
