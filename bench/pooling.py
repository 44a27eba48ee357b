"""Pooling rows: ``GrpcClient(target, pool_size=N)`` at concurrency 256, async.

The baseline is ``pool_size=1``: the rows show what spreading calls over 2 and
4 connections buys (or costs) when one HTTP/2 connection carries 256
concurrent calls. On loopback with 2 cores the answer is mostly "CPU-bound
either way"; the row is there to catch a pool that makes things worse.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bench.budget import Budget
from bench.stats import Row, paired_row
from bench.workload import Sample, rotations, time_async

CONCURRENCY = 256


def pooling(target: str, budget: Budget) -> list[Row]:
    return asyncio.run(_pooling(target, budget))


async def _pooling(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    clients = {size: GrpcClient(target, pool_size=size) for size in (1, 2, 4)}
    calls = max(budget.concurrent_calls, CONCURRENCY)

    def calling(client: Any) -> Callable[[], Awaitable[object]]:
        async def one() -> object:
            return (await client.call_async(GetUserGrpcRequest(user_id="1"))).message()

        return one

    variants = {f"pool_size={size}": calling(client) for size, client in clients.items()}
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    try:
        for operation in variants.values():
            await time_async(operation, CONCURRENCY, CONCURRENCY, budget.seconds_per_loop)
        for order in rotations(list(variants), budget.concurrent_repetitions):
            for name in order:
                samples[name].append(
                    await time_async(variants[name], calls, CONCURRENCY, budget.seconds_per_loop)
                )
    finally:
        for client in clients.values():
            await client.aclose()
    base = samples["pool_size=1"]
    rows: list[Row] = []
    for name in ("pool_size=2", "pool_size=4"):
        rows.append(
            paired_row(
                f"async c={CONCURRENCY} {name} vs pool_size=1: throughput",
                "calls/s",
                [s.ops_per_second for s in samples[name]],
                [s.ops_per_second for s in base],
            )
        )
        rows.append(
            paired_row(
                f"async c={CONCURRENCY} {name} vs pool_size=1: client CPU per call",
                "µs",
                [s.cpu_us_per_op for s in samples[name]],
                [s.cpu_us_per_op for s in base],
            )
        )
    return rows
