"""``python -m bench``: every row, one table, ratios measured in the same run.

``--quick`` shrinks every loop so the smoke test can run it in seconds; its
numbers mean nothing. A real run takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench import code_sections, rpc_sections
from bench.stats import Row, render
from bench.workload import bench_server, compile_protos

REAL = rpc_sections.Budget(unary_calls=2000, stream_messages=10_000, streams=3, repetitions=7)
QUICK = rpc_sections.Budget(unary_calls=30, stream_messages=200, streams=1, repetitions=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny loops: a smoke test")
    parser.add_argument(
        "--only",
        choices=["unary", "async", "stream", "pool", "generator", "import"],
        action="append",
        help="run only these sections (repeatable)",
    )
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else REAL
    wanted = set(args.only or ["unary", "async", "stream", "pool", "generator", "import"])

    started = time.perf_counter()
    protos_dir = compile_protos()
    rows: list[Row] = []
    rpc: list[tuple[str, Callable[[str, rpc_sections.Budget], list[Row]]]] = [
        ("unary", rpc_sections.unary_sync),
        ("async", rpc_sections.unary_async),
        ("stream", rpc_sections.streaming),
        ("pool", rpc_sections.pooling),
    ]
    if wanted & {name for name, _ in rpc}:
        with bench_server(protos_dir) as target:
            for name, section in rpc:
                if name in wanted:
                    rows += section(target, budget)
    if "generator" in wanted:
        rows += code_sections.generator(quick=args.quick, repetitions=budget.repetitions)
    if "import" in wanted:
        rows += code_sections.import_time(protos_dir, repetitions=budget.repetitions)

    print(
        f"protoreq benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, medians of {budget.repetitions} repetitions"
        f"{' (QUICK: numbers are meaningless)' if args.quick else ''}"
    )
    print(render(rows))
    print(f"took {time.perf_counter() - started:.0f} s")
    return 0
