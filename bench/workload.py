"""Timing one variant: a bounded loop, its client CPU and its rate.

Client CPU is ``time.process_time()`` of this process — it includes grpcio's
own threads (the sync channel's polling thread, the async completion queue) —
divided by the operations made; the server runs in another process, so none
of its work is counted. Every loop is bounded twice, by a count and by a wall
clock limit, so a slow machine makes a run less precise, never endless.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """One timed loop of one variant."""

    cpu_us_per_op: float
    ops_per_second: float
    ops: int

    def per(self, items: int) -> Sample:
        """The same sample per item, when one operation handles ``items`` (stream messages)."""
        return Sample(self.cpu_us_per_op / items, self.ops_per_second * items, self.ops * items)


def _sample(cpu: float, wall: float, ops: int) -> Sample:
    if ops == 0:
        raise RuntimeError("a timed loop made no operation")
    return Sample(cpu * 1e6 / ops, ops / wall, ops)


def time_sync(operation: Callable[[], object], count: int, max_seconds: float) -> Sample:
    """Run ``operation`` ``count`` times, or fewer if ``max_seconds`` pass first."""
    gc.collect()  # garbage of the previous variant is not this one's cost
    cpu, wall = time.process_time(), time.perf_counter()
    stop = wall + max_seconds
    done = 0
    while done < count:
        operation()
        done += 1
        if time.perf_counter() > stop:
            break
    return _sample(time.process_time() - cpu, time.perf_counter() - wall, done)


async def time_async(
    operation: Callable[[], Awaitable[object]],
    count: int,
    concurrency: int,
    max_seconds: float,
) -> Sample:
    """``count`` operations by ``concurrency`` tasks on the running loop, bounded in time too."""
    gc.collect()
    done = 0
    stop = time.perf_counter() + max_seconds

    async def worker() -> None:
        nonlocal done
        while done < count and time.perf_counter() <= stop:
            done += 1  # claimed before awaiting, so the tasks make exactly `count` together
            await operation()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _sample(time.process_time() - cpu, time.perf_counter() - wall, done)


def rotations(names: list[str], repetitions: int) -> list[list[str]]:
    """Each repetition runs every variant once, starting one further along each time."""
    return [names[i % len(names) :] + names[: i % len(names)] for i in range(repetitions)]
