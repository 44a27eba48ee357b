"""Unary rows: protoreq's ``call()`` / ``call_async()`` against grpcio's generated stubs.

The baseline is ``user_pb2_grpc.UserServiceStub``, what a user of plain grpcio
writes. "raw+trace" sends the metadata protoreq sends by default (an
``x-trace-id`` made by the same function, :func:`protoreq.context.new_trace_id`)
and the same 30 s timeout, so its ratio measures the layer rather than the
feature; "raw" sends neither and shows what the feature itself costs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc

from bench.budget import Budget
from bench.environment import grpc_stubs
from bench.stats import Row, paired_row
from bench.workload import Sample, rotations, time_async, time_sync

_TIMEOUT = 30.0  # protoreq's DEFAULT_TIMEOUT: both sides set the same deadline


def _rows(
    samples: dict[str, list[Sample]],
    label: str,
    baseline: str,
    *,
    cpu_target: str = "",
    rate_target: str = "",
) -> list[Row]:
    ours = samples["protoreq"]
    theirs = samples[baseline]
    return [
        paired_row(
            f"{label}: client CPU per call",
            "µs",
            [s.cpu_us_per_op for s in ours],
            [s.cpu_us_per_op for s in theirs],
            cpu_target,
        ),
        paired_row(
            f"{label}: throughput",
            "calls/s",
            [s.ops_per_second for s in ours],
            [s.ops_per_second for s in theirs],
            rate_target,
        ),
    ]


def unary_sync(target: str, budget: Budget) -> list[Row]:
    """``client.call(GetUserGrpcRequest(...))`` vs the stub, with and without the trace id."""
    from protoreq import GrpcClient  # noqa: PLC0415  # imported once protos are on sys.path
    from protoreq.context import new_trace_id  # noqa: PLC0415
    from protos import user_pb2  # noqa: PLC0415

    user_pb2_grpc = grpc_stubs()
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    channel = grpc.insecure_channel(target)
    stub = user_pb2_grpc.UserServiceStub(channel)
    client = GrpcClient(target)

    def raw() -> object:
        return stub.GetUser(user_pb2.GetUserRequest(user_id="1"), timeout=_TIMEOUT)

    def raw_with_trace_id() -> object:
        return stub.GetUser(
            user_pb2.GetUserRequest(user_id="1"),
            timeout=_TIMEOUT,
            metadata=(("x-trace-id", new_trace_id()),),
        )

    def protoreq() -> object:
        return client.call(GetUserGrpcRequest(user_id="1")).message()

    variants: dict[str, Callable[[], object]] = {
        "raw": raw,
        "raw+trace": raw_with_trace_id,
        "protoreq": protoreq,
    }
    try:
        for operation in variants.values():  # connect, warm caches
            time_sync(operation, 100, budget.seconds_per_loop)
        samples: dict[str, list[Sample]] = {name: [] for name in variants}
        for order in rotations(list(variants), budget.unary_repetitions):
            for name in order:
                samples[name].append(
                    time_sync(variants[name], budget.unary_calls, budget.seconds_per_loop)
                )
    finally:
        client.close()
        channel.close()
    return _rows(samples, "unary sync vs raw+trace id", "raw+trace", cpu_target="≤ 1.05") + _rows(
        samples, "unary sync vs bare raw", "raw"
    )


def unary_async(target: str, budget: Budget) -> list[Row]:
    """``await client.call_async(...)`` vs the grpc.aio stub, at concurrency 1 and 64."""
    return asyncio.run(_unary_async(target, budget))


async def _unary_async(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protoreq.context import new_trace_id  # noqa: PLC0415
    from protos import user_pb2  # noqa: PLC0415

    user_pb2_grpc = grpc_stubs()
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    channel = grpc.aio.insecure_channel(target)
    stub = user_pb2_grpc.UserServiceStub(channel)
    client = GrpcClient(target)

    async def raw_with_trace_id() -> object:
        return await stub.GetUser(
            user_pb2.GetUserRequest(user_id="1"),
            timeout=_TIMEOUT,
            metadata=(("x-trace-id", new_trace_id()),),
        )

    async def protoreq() -> object:
        return (await client.call_async(GetUserGrpcRequest(user_id="1"))).message()

    variants: dict[str, Callable[[], Awaitable[object]]] = {
        "raw+trace": raw_with_trace_id,
        "protoreq": protoreq,
    }
    rows: list[Row] = []
    try:
        for concurrency, calls, repetitions in (
            (1, budget.unary_calls, budget.unary_repetitions),
            (64, budget.concurrent_calls, budget.concurrent_repetitions),
        ):
            for operation in variants.values():
                await time_async(operation, 2 * concurrency, concurrency, budget.seconds_per_loop)
            samples: dict[str, list[Sample]] = {name: [] for name in variants}
            for order in rotations(list(variants), repetitions):
                for name in order:
                    samples[name].append(
                        await time_async(
                            variants[name], calls, concurrency, budget.seconds_per_loop
                        )
                    )
            rows += _rows(
                samples,
                f"unary async c={concurrency} vs raw+trace id",
                "raw+trace",
                cpu_target="≤ 1.05",
                rate_target="≥ 0.95" if concurrency == 64 else "",
            )
    finally:
        await client.aclose()
        await channel.close()
    return rows
