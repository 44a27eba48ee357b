"""``python -m bench``: every row, one table, ratios measured in the same run.

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

from bench import generator, hedging, imports, interceptors, pooling, streaming, unary
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
        "--only",
        choices=[*RPC_SECTIONS, *OTHER_SECTIONS],
        action="append",
        help="run only this section (repeatable)",
    )
    args = parser.parse_args(argv)
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
