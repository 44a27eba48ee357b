"""How much each section may do: operation counts, time limits, repetitions.

Short samples, many of them: each repetition runs every variant once, back to
back, and a ratio is the median of those paired ratios, so more pairs make a
steadier median on a machine whose speed drifts from one second to the next.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """Loop bounds for one run; every loop stops at its count or its time, whichever is first."""

    unary_calls: int
    """Calls per variant per repetition (sync, and async at concurrency 1)."""
    unary_repetitions: int
    concurrent_calls: int
    """Calls per variant per repetition at concurrency 64 and 256."""
    concurrent_repetitions: int
    stream_messages: int
    """Messages per stream; one stream per variant per repetition."""
    stream_repetitions: int
    seconds_per_loop: float
    """Wall-clock limit of one timed loop."""
    tree_files: int
    """Files of the generated .proto tree (5 services x 10 RPCs each)."""
    generator_repetitions: int
    import_repetitions: int

    @property
    def summary(self) -> str:
        return (
            f"medians of {self.unary_repetitions} (unary), {self.concurrent_repetitions} "
            f"(concurrent), {self.stream_repetitions} (streams), "
            f"{self.generator_repetitions} (generator) and {self.import_repetitions} (import) "
            "repetitions"
        )


FULL = Budget(
    unary_calls=500,
    unary_repetitions=21,
    concurrent_calls=1600,
    concurrent_repetitions=13,
    stream_messages=10_000,
    stream_repetitions=9,
    seconds_per_loop=4.0,
    tree_files=100,
    generator_repetitions=5,
    import_repetitions=15,
)
QUICK = Budget(
    unary_calls=20,
    unary_repetitions=2,
    concurrent_calls=128,
    concurrent_repetitions=2,
    stream_messages=100,
    stream_repetitions=2,
    seconds_per_loop=1.0,
    tree_files=2,
    generator_repetitions=1,
    import_repetitions=1,
)
"""For the smoke test: every code path once or twice; its numbers mean nothing."""
