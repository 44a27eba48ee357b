"""``python -m bench``: every row, one table, ratios measured in the same run.

``--instructions`` counts CPU instructions per call under valgrind instead,
for protoreq, raw grpcio and the peers (:mod:`bench.instructions`).
``--quick`` shrinks every loop so the smoke test (tests/bench) runs it in
seconds; its numbers mean nothing. A full run takes about four minutes on two
cores. See bench/README.md for the latest table and how to read it.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import generator, hedging, imports, instructions, interceptors, pooling, streaming, unary
from bench.budget import FULL, QUICK, Budget
from bench.environment import bench_server, compile_protos
from bench.stats import Row, render

RpcSection = Callable[[str, Budget], list[Row]]

RPC_SECTIONS: dict[str, RpcSection] = {
    "unary": unary.unary_sync,
    "async": unary.unary_async,
    "stream": streaming.streaming_sync,
    "stream-async": streaming.streaming_async,
    "pool": pooling.pooling,
    "interceptors": interceptors.interceptors_sync,
    "interceptors-async": interceptors.interceptors_async,
    "hedging": hedging.tail_latency,
}
OTHER_SECTIONS = ("generator", "import")


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu})"
    )


def _versions() -> str:
    from importlib import metadata  # noqa: PLC0415

    names = ("grpcio", "protobuf", "grpcio-tools", "mypy-protobuf")
    return ", ".join(f"{name} {metadata.version(name)}" for name in names)


def _timed(name: str, section: Callable[[], list[Row]]) -> list[Row]:
    """Run one section, telling stderr how long it took (the table goes to stdout)."""
    started = time.perf_counter()
    rows = section()
    print(f"  {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny loops: a smoke test")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count CPU instructions per call under valgrind, protoreq and peers (bench/README.md)",
    )
    parser.add_argument("--calls", type=int, default=100, help="--instructions: N for unary cases")
    parser.add_argument(
        "--messages", type=int, default=500, help="--instructions: N for stream cases"
    )
    parser.add_argument(
        "--case",
        action="append",
        default=[],
        help="--instructions: only this case (group/client, or a group); repeatable",
    )
    parser.add_argument(
        "--annotate",
        action="append",
        default=[],
        help="--instructions: callgrind_annotate's top functions for this case; repeatable",
    )
    parser.add_argument("--jobs", type=int, default=2, help="--instructions: valgrind children")
    parser.add_argument(
        "--pairs", type=int, default=3, help="--instructions: (N, 3N) window pairs per case"
    )
    parser.add_argument("--fair-sched", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--time-windows",
        type=int,
        default=5,
        help="--instructions: native windows for CPU time (0: instructions only)",
    )
    parser.add_argument(
        "--only",
        choices=[*RPC_SECTIONS, *OTHER_SECTIONS],
        action="append",
        help="run only this section (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.instructions:
        return instructions.main(
            instructions.Settings(
                calls=args.calls,
                messages=args.messages,
                time_windows=args.time_windows,
                jobs=args.jobs,
                cases=tuple(args.case),
                annotate=tuple(args.annotate),
                with_time=args.time_windows > 0,
                pairs=args.pairs,
                fair_sched=args.fair_sched,
            )
        )
    budget = QUICK if args.quick else FULL
    wanted = set(args.only or [*RPC_SECTIONS, *OTHER_SECTIONS])

    started = time.perf_counter()
    protos_dir = compile_protos()
    rows: list[Row] = []
    try:
        if wanted & set(RPC_SECTIONS):
            with bench_server(protos_dir) as target:
                for name, section in RPC_SECTIONS.items():
                    if name in wanted:
                        rows += _timed(name, functools.partial(section, target, budget))
        if "generator" in wanted:
            rows += _timed("generator", lambda: generator.generator(budget))
        if "import" in wanted:
            rows += _timed("import", lambda: imports.import_time(protos_dir, budget))
    finally:
        shutil.rmtree(protos_dir, ignore_errors=True)

    quick = " — QUICK MODE: the numbers mean nothing" if args.quick else ""
    print(
        f"protoreq benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {_machine()}; "
        f"{_versions()}; {budget.summary}{quick}"
    )
    print()
    print(render(rows))
    print()
    print(f"took {time.perf_counter() - started:.0f} s")
    return 0
