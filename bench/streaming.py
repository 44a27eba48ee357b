"""Server-streaming rows: iterating ``client.stream()`` / ``stream_async()`` vs raw grpcio.

One operation is one whole stream of ``stream_messages`` small messages; rows
are per message. Both sides send the trace id and a timeout, and both check
that every message arrived: a benchmark that silently measured a broken
stream would be worse than none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from bench.budget import Budget
from bench.environment import REGISTERED
from bench.server import STREAM_METHOD, STREAM_SERVICE
from bench.stats import Row, paired_row
from bench.workload import Sample, rotations, time_async, time_sync

_TIMEOUT = 120.0
_PATH = f"/{STREAM_SERVICE}/{STREAM_METHOD}"
_SINGLE_THREADED = ("SingleThreadedUnaryStream", 1)
"""``grpc.experimental.ChannelOptions.SingleThreadedUnaryStream``: the consumer's thread reads
the call's own completion queue, no hop through the channel's polling thread. Measured, not
adopted: grpcio 1.85 then leaks every stream ended early (see bench/README.md)."""


def _check(received: int, expected: int, ok: bool) -> None:
    if received != expected or not ok:
        raise RuntimeError(f"stream delivered {received}/{expected} messages (ok={ok})")


def _stream_request_class() -> Any:
    """A server-streaming request for ``bench.Bench/Stream``, declared as generated ones are."""
    from protoreq import (  # noqa: PLC0415
        Cardinality,
        GeneratedServerStreamingGrpcRequest,
        RpcMethod,
    )
    from protos import user_pb2  # noqa: PLC0415

    class StreamUsersGrpcRequest(
        GeneratedServerStreamingGrpcRequest[user_pb2.GetUserRequest, user_pb2.User]
    ):
        rpc = RpcMethod(
            service=STREAM_SERVICE,
            method=STREAM_METHOD,
            request_type=user_pb2.GetUserRequest,
            response_type=user_pb2.User,
            cardinality=Cardinality.UNARY_STREAM,
        )

        def __init__(self, count: int) -> None:
            super().__init__()
            self._message = user_pb2.GetUserRequest(user_id=str(count))

    return StreamUsersGrpcRequest


def _rows(samples: dict[str, list[Sample]], label: str) -> list[Row]:
    return [
        paired_row(
            f"{label}: client CPU per message",
            "µs",
            [s.cpu_us_per_op for s in samples["protoreq"]],
            [s.cpu_us_per_op for s in samples["raw"]],
            "≤ 1.05",
        ),
        paired_row(
            f"{label}: throughput",
            "messages/s",
            [s.ops_per_second for s in samples["protoreq"]],
            [s.ops_per_second for s in samples["raw"]],
        ),
    ]


def streaming_sync(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protoreq.context import new_trace_id  # noqa: PLC0415
    from protos import user_pb2  # noqa: PLC0415

    count = budget.stream_messages
    request_class = _stream_request_class()
    channel = grpc.insecure_channel(target)
    stub = channel.unary_stream(
        _PATH,
        request_serializer=user_pb2.GetUserRequest.SerializeToString,
        response_deserializer=user_pb2.User.FromString,
        **REGISTERED,
    )
    client = GrpcClient(target)
    single_channel = grpc.insecure_channel(target, options=[_SINGLE_THREADED])
    single_stub = single_channel.unary_stream(
        _PATH,
        request_serializer=user_pb2.GetUserRequest.SerializeToString,
        response_deserializer=user_pb2.User.FromString,
        **REGISTERED,
    )

    def raw_single_threaded() -> object:
        received = 0
        for _ in single_stub(
            user_pb2.GetUserRequest(user_id=str(count)),
            timeout=_TIMEOUT,
            metadata=(("x-trace-id", new_trace_id()),),
        ):
            received += 1
        _check(received, count, ok=True)
        return received

    def raw() -> object:
        received = 0
        for _ in stub(
            user_pb2.GetUserRequest(user_id=str(count)),
            timeout=_TIMEOUT,
            metadata=(("x-trace-id", new_trace_id()),),
        ):
            received += 1
        _check(received, count, ok=True)
        return received

    def protoreq() -> object:
        received = 0
        stream = client.stream(request_class(count))
        for _ in stream:
            received += 1
        _check(received, count, ok=stream.is_success())
        return received

    variants: dict[str, Callable[[], object]] = {
        "raw": raw,
        "protoreq": protoreq,
        "single": raw_single_threaded,
    }
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    try:
        for operation in variants.values():
            time_sync(operation, 1, budget.seconds_per_loop)
        for order in rotations(list(variants), budget.stream_repetitions):
            for name in order:
                sample = time_sync(variants[name], 1, budget.seconds_per_loop)
                samples[name].append(sample.per(count))
    finally:
        client.close()
        channel.close()
        single_channel.close()
    label = f"server stream sync, {count:,} messages"
    single_row = paired_row(
        f"{label}: raw SingleThreadedUnaryStream vs raw default, client CPU per message",
        "µs",
        [s.cpu_us_per_op for s in samples["single"]],
        [s.cpu_us_per_op for s in samples["raw"]],
    )
    return [*_rows(samples, label), single_row]


def streaming_async(target: str, budget: Budget) -> list[Row]:
    return asyncio.run(_streaming_async(target, budget))


async def _streaming_async(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protoreq.context import new_trace_id  # noqa: PLC0415
    from protos import user_pb2  # noqa: PLC0415

    count = budget.stream_messages
    request_class = _stream_request_class()
    channel = grpc.aio.insecure_channel(target)
    stub = channel.unary_stream(
        _PATH,
        request_serializer=user_pb2.GetUserRequest.SerializeToString,
        response_deserializer=user_pb2.User.FromString,
        **REGISTERED,
    )
    client = GrpcClient(target)

    async def raw() -> object:
        received = 0
        async for _ in stub(
            user_pb2.GetUserRequest(user_id=str(count)),
            timeout=_TIMEOUT,
            metadata=(("x-trace-id", new_trace_id()),),
        ):
            received += 1
        _check(received, count, ok=True)
        return received

    async def protoreq() -> object:
        received = 0
        stream = client.stream_async(request_class(count))
        async for _ in stream:
            received += 1
        _check(received, count, ok=stream.is_success())
        return received

    variants: dict[str, Callable[[], Awaitable[object]]] = {"raw": raw, "protoreq": protoreq}
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    try:
        for operation in variants.values():
            await time_async(operation, 1, 1, budget.seconds_per_loop)
        for order in rotations(list(variants), budget.stream_repetitions):
            for name in order:
                sample = await time_async(variants[name], 1, 1, budget.seconds_per_loop)
                samples[name].append(sample.per(count))
    finally:
        await client.aclose()
        await channel.close()
    return _rows(samples, f"server stream async, {count:,} messages")
