"""Unary, streaming and pooling rows: protoreq vs raw grpcio against one server process.

Each repetition runs every variant once, in rotating order, so drift on a
noisy machine hits all variants alike; rows report medians over repetitions.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from bench.server import STREAM_METHOD, STREAM_SERVICE
from bench.stats import Row, median
from bench.workload import Sample, time_async, time_sync


@dataclass(frozen=True)
class Budget:
    """Loop bounds: operations per variant and repetitions (at least 5 for real runs)."""

    unary_calls: int
    stream_messages: int
    streams: int
    repetitions: int


def _rotations(names: list[str], repetitions: int) -> list[list[str]]:
    return [names[i % len(names) :] + names[: i % len(names)] for i in range(repetitions)]


def _rows_from(
    samples: dict[str, list[Sample]],
    ours: str,
    baseline: str,
    label: str,
    *,
    cpu_target: str = "",
    rate_target: str = "",
    per: str = "call",
) -> list[Row]:
    cpu = Row(
        f"{label}: client CPU per {per}",
        "µs",
        median([s.cpu_us_per_op for s in samples[ours]]),
        median([s.cpu_us_per_op for s in samples[baseline]]),
        cpu_target,
    )
    rate = Row(
        f"{label}: throughput",
        f"{per}s/s",
        median([s.ops_per_second for s in samples[ours]]),
        median([s.ops_per_second for s in samples[baseline]]),
        rate_target,
    )
    return [cpu, rate]


def unary_sync(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protos import user_pb2  # noqa: PLC0415
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    channel = grpc.insecure_channel(target)
    stub = channel.unary_unary(
        "/user.UserService/GetUser",
        request_serializer=user_pb2.GetUserRequest.SerializeToString,
        response_deserializer=user_pb2.User.FromString,
    )
    client = GrpcClient(target)

    def raw_bare() -> object:
        return stub(user_pb2.GetUserRequest(user_id="1"), timeout=30)

    def raw_with_trace_id() -> object:
        return stub(
            user_pb2.GetUserRequest(user_id="1"),
            timeout=30,
            metadata=(("x-trace-id", uuid.uuid4().hex),),
        )

    def protoreq_call() -> object:
        return client.call(GetUserGrpcRequest(user_id="1")).message()

    variants: dict[str, Callable[[], object]] = {
        "raw": raw_bare,
        "raw+trace": raw_with_trace_id,
        "protoreq": protoreq_call,
    }
    for operation in variants.values():  # warm up connections and caches
        time_sync(operation, 50)
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    for order in _rotations(list(variants), budget.repetitions):
        for name in order:
            samples[name].append(time_sync(variants[name], budget.unary_calls))
    client.close()
    channel.close()
    rows = _rows_from(
        samples, "protoreq", "raw+trace", "unary sync vs raw+trace id", cpu_target="≤ 1.05"
    )
    rows += _rows_from(samples, "protoreq", "raw", "unary sync vs bare raw")
    return rows


def unary_async(target: str, budget: Budget) -> list[Row]:
    return asyncio.run(_unary_async(target, budget))


async def _unary_async(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protos import user_pb2  # noqa: PLC0415
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    channel = grpc.aio.insecure_channel(target)
    stub = channel.unary_unary(
        "/user.UserService/GetUser",
        request_serializer=user_pb2.GetUserRequest.SerializeToString,
        response_deserializer=user_pb2.User.FromString,
    )
    client = GrpcClient(target)

    async def raw_with_trace_id() -> object:
        return await stub(
            user_pb2.GetUserRequest(user_id="1"),
            timeout=30,
            metadata=(("x-trace-id", uuid.uuid4().hex),),
        )

    async def protoreq_call() -> object:
        return (await client.call_async(GetUserGrpcRequest(user_id="1"))).message()

    variants: dict[str, Callable[[], Awaitable[object]]] = {
        "raw+trace": raw_with_trace_id,
        "protoreq": protoreq_call,
    }
    rows: list[Row] = []
    for concurrency in (1, 64):
        for operation in variants.values():
            await time_async(operation, 64, concurrency)
        samples: dict[str, list[Sample]] = {name: [] for name in variants}
        for order in _rotations(list(variants), budget.repetitions):
            for name in order:
                samples[name].append(
                    await time_async(variants[name], budget.unary_calls, concurrency)
                )
        rows += _rows_from(
            samples,
            "protoreq",
            "raw+trace",
            f"unary async c={concurrency}",
            cpu_target="≤ 1.05",
            rate_target="≥ 0.95" if concurrency == 64 else "",
        )
    await client.aclose()
    await channel.close()
    return rows


def _check_stream(received: int, expected: int, ok: bool) -> None:
    """A benchmark that silently measured a broken stream would be worse than none."""
    if received != expected or not ok:
        raise RuntimeError(f"stream delivered {received}/{expected} messages (ok={ok})")


def _stream_request(count: int) -> Any:
    from protoreq import Cardinality, RpcMethod, ServerStreamingGrpcRequest  # noqa: PLC0415
    from protos import user_pb2  # noqa: PLC0415

    class StreamUsers(ServerStreamingGrpcRequest[user_pb2.GetUserRequest, user_pb2.User]):
        rpc = RpcMethod(
            service=STREAM_SERVICE,
            method=STREAM_METHOD,
            request_type=user_pb2.GetUserRequest,
            response_type=user_pb2.User,
            cardinality=Cardinality.UNARY_STREAM,
        )

        def service_name(self) -> str:
            return STREAM_SERVICE

        def method_name(self) -> str:
            return STREAM_METHOD

        def message(self) -> user_pb2.GetUserRequest:
            return user_pb2.GetUserRequest(user_id=str(count))

    return StreamUsers()


def streaming(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protos import user_pb2  # noqa: PLC0415

    count = budget.stream_messages
    path = f"/{STREAM_SERVICE}/{STREAM_METHOD}"
    channel = grpc.insecure_channel(target)
    stub = channel.unary_stream(
        path,
        request_serializer=user_pb2.GetUserRequest.SerializeToString,
        response_deserializer=user_pb2.User.FromString,
    )
    client = GrpcClient(target)

    def raw_stream() -> object:
        received = sum(1 for _ in stub(user_pb2.GetUserRequest(user_id=str(count)), timeout=60))
        _check_stream(received, count, ok=True)
        return received

    def protoreq_stream() -> object:
        stream = client.stream(_stream_request(count))
        received = sum(1 for _ in stream)
        _check_stream(received, count, ok=stream.is_success())
        return received

    variants = {"raw": raw_stream, "protoreq": protoreq_stream}
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    for order in _rotations(list(variants), budget.repetitions):
        for name in order:
            sample = time_sync(variants[name], budget.streams)
            samples[name].append(
                Sample(sample.cpu_us_per_op / count, sample.ops_per_second * count)
            )
    client.close()
    channel.close()
    rows = _rows_from(
        samples, "protoreq", "raw", "server stream sync", cpu_target="≤ 1.05", per="message"
    )
    return rows + asyncio.run(_streaming_async(target, budget))


async def _streaming_async(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protos import user_pb2  # noqa: PLC0415

    count = budget.stream_messages
    channel = grpc.aio.insecure_channel(target)
    stub = channel.unary_stream(
        f"/{STREAM_SERVICE}/{STREAM_METHOD}",
        request_serializer=user_pb2.GetUserRequest.SerializeToString,
        response_deserializer=user_pb2.User.FromString,
    )
    client = GrpcClient(target)

    async def raw_stream() -> object:
        received = 0
        async for _ in stub(user_pb2.GetUserRequest(user_id=str(count)), timeout=60):
            received += 1
        _check_stream(received, count, ok=True)
        return received

    async def protoreq_stream() -> object:
        received = 0
        stream = client.stream_async(_stream_request(count))
        async for _ in stream:
            received += 1
        _check_stream(received, count, ok=stream.is_success())
        return received

    variants: dict[str, Callable[[], Awaitable[object]]] = {
        "raw": raw_stream,
        "protoreq": protoreq_stream,
    }
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    for order in _rotations(list(variants), budget.repetitions):
        for name in order:
            sample = await time_async(variants[name], budget.streams, 1)
            samples[name].append(
                Sample(sample.cpu_us_per_op / count, sample.ops_per_second * count)
            )
    await client.aclose()
    await channel.close()
    return _rows_from(
        samples, "protoreq", "raw", "server stream async", cpu_target="≤ 1.05", per="message"
    )


def pooling(target: str, budget: Budget) -> list[Row]:
    return asyncio.run(_pooling(target, budget))


async def _pooling(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    clients = {size: GrpcClient(target, pool_size=size) for size in (1, 2, 4)}
    calls = max(budget.unary_calls, 256)

    def call_with(client: GrpcClient) -> Callable[[], Awaitable[object]]:
        async def one() -> object:
            return (await client.call_async(GetUserGrpcRequest(user_id="1"))).message()

        return one

    variants = {f"pool={size}": call_with(client) for size, client in clients.items()}
    for operation in variants.values():
        await time_async(operation, 256, 256)
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    for order in _rotations(list(variants), budget.repetitions):
        for name in order:
            samples[name].append(await time_async(variants[name], calls, 256))
    for client in clients.values():
        await client.aclose()
    base = median([s.ops_per_second for s in samples["pool=1"]])
    return [
        Row(
            f"async c=256 {name} vs pool=1: throughput",
            "calls/s",
            median([s.ops_per_second for s in samples[name]]),
            base,
        )
        for name in ("pool=2", "pool=4")
    ]
