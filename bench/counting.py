"""The measured child: ``python -m bench.counting CASE --target ... --windows N,3N``.

It builds one case (:mod:`bench.cases`) against the running bench server, warms
it up, then runs one window per ``--windows`` size, each between the callgrind
markers (:mod:`bench.callgrind`) when ``--marker`` is given, and prints one JSON
line: the client CPU time (``time.process_time()``, this process and its grpcio
threads) of every window, or the reason the case was skipped. The parent reads
the instruction counts from callgrind's per-window dumps.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast


def _windows(
    run: Callable[[int], object],
    sizes: list[int],
    warmup: int,
    markers: tuple[Callable[[], None], Callable[[], None]],
) -> list[dict[str, float]]:
    start, stop = markers
    run(warmup)
    results = []
    for size in sizes:
        gc.collect()
        start()
        cpu = time.process_time()
        run(size)
        cpu = time.process_time() - cpu
        stop()
        results.append({"ops": size, "cpu": cpu})
    return results


async def _windows_async(
    run: Callable[[int], Awaitable[object]],
    sizes: list[int],
    warmup: int,
    markers: tuple[Callable[[], None], Callable[[], None]],
) -> list[dict[str, float]]:
    start, stop = markers
    await run(warmup)
    results = []
    for size in sizes:
        gc.collect()
        start()
        cpu = time.process_time()
        await run(size)
        cpu = time.process_time() - cpu
        stop()
        results.append({"ops": size, "cpu": cpu})
    return results


def measure(case_name: str, target: str, sizes: list[int], warmup: int, marker: str | None) -> Any:
    from bench.callgrind import window_markers  # noqa: PLC0415
    from bench.cases import CASES, SkippedError  # noqa: PLC0415

    markers = window_markers(marker)
    if not case_name.split("/", maxsplit=1)[0].endswith("async"):
        try:
            case = CASES[case_name](target)
        except SkippedError as skipped:
            return {"case": case_name, "skipped": str(skipped)}
        try:
            return {"case": case_name, "windows": _windows(case.run, sizes, warmup, markers)}
        finally:
            case.close()

    async def measured() -> Any:
        # Built on the running loop: grpc.aio and grpclib channels belong to the loop they are
        # made on.
        try:
            case = CASES[case_name](target)
        except SkippedError as skipped:
            return {"case": case_name, "skipped": str(skipped)}
        try:
            run = cast(Callable[[int], Awaitable[object]], case.run)
            return {"case": case_name, "windows": await _windows_async(run, sizes, warmup, markers)}
        finally:
            closed = case.close()
            if inspect.isawaitable(closed):
                await closed

    return asyncio.run(measured())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.counting", description=__doc__)
    parser.add_argument("case")
    parser.add_argument("--target", required=True, help="the bench server's 127.0.0.1:port")
    parser.add_argument("--protos", required=True, help="the folder bench compiled protos into")
    parser.add_argument("--windows", required=True, help="comma-separated window sizes")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--marker", help="the callgrind marker library (under valgrind)")
    args = parser.parse_args(argv)
    sys.path.insert(0, args.protos)
    sizes = [int(size) for size in args.windows.split(",")]
    result = measure(args.case, args.target, sizes, args.warmup, args.marker)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
