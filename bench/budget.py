"""How much each section may do: operation counts, time limits, repetitions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """Loop bounds for one run; every loop stops at its count or its time, whichever is first."""

    unary_calls: int
    """Calls per variant per repetition (sync, and async at concurrency 1)."""
    concurrent_calls: int
    """Calls per variant per repetition at concurrency 64 and 256."""
    stream_messages: int
    streams: int
    """Streams per variant per repetition."""
    repetitions: int
    seconds_per_loop: float
    """Wall-clock limit of one timed loop."""
    tree_files: int
    """Files of the generated .proto tree (5 services x 10 RPCs each)."""
    generator_repetitions: int


FULL = Budget(
    unary_calls=1500,
    concurrent_calls=3200,
    stream_messages=10_000,
    streams=1,
    repetitions=7,
    seconds_per_loop=4.0,
    tree_files=100,
    generator_repetitions=5,
)
QUICK = Budget(
    unary_calls=20,
    concurrent_calls=128,
    stream_messages=100,
    streams=1,
    repetitions=2,
    seconds_per_loop=1.0,
    tree_files=2,
    generator_repetitions=1,
)
"""For the smoke test: every code path once or twice; its numbers mean nothing."""
