"""``python -m bench.profile WORKLOAD``: where protoreq's own time goes, with pyinstrument.

Runs one workload against the benchmark server (or the plugin on the tree)
under pyinstrument and prints the call tree, so a regression in a row of the
table can be traced to a function. Workloads: ``unary``, ``async``,
``stream``, ``stream-async``, ``plugin``. pyinstrument samples Python frames;
time spent inside grpcio's Cython core shows up on the Python frame that
called it (``with_call``, ``read``...), which is exactly the split we need:
what is ours and what is grpcio's.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.environment import bench_server, compile_protos
from bench.tree import write_tree


def _unary(target: str, calls: int) -> Callable[[], Any]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    client = GrpcClient(target)
    client.call(GetUserGrpcRequest(user_id="1"))

    def run() -> None:
        for _ in range(calls):
            client.call(GetUserGrpcRequest(user_id="1")).message()

    return run


def _async(target: str, calls: int, concurrency: int = 64) -> Callable[[], Any]:
    from protoreq import GrpcClient  # noqa: PLC0415
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    client = GrpcClient(target)

    async def worker() -> None:
        for _ in range(calls // concurrency):
            (await client.call_async(GetUserGrpcRequest(user_id="1"))).message()

    async def all_workers() -> None:
        await asyncio.gather(*(worker() for _ in range(concurrency)))

    return lambda: asyncio.run(all_workers())


def _stream(target: str, messages: int) -> Callable[[], Any]:
    from bench.streaming import _stream_request_class  # noqa: PLC0415
    from protoreq import GrpcClient  # noqa: PLC0415

    client = GrpcClient(target)
    request_class = _stream_request_class()
    return lambda: sum(1 for _ in client.stream(request_class(messages)))


def _stream_async(target: str, messages: int) -> Callable[[], Any]:
    from bench.streaming import _stream_request_class  # noqa: PLC0415
    from protoreq import GrpcClient  # noqa: PLC0415

    client = GrpcClient(target)
    request_class = _stream_request_class()

    async def consume() -> None:
        async for _ in client.stream_async(request_class(messages)):
            pass

    return lambda: asyncio.run(consume())


def _plugin(files: int) -> Callable[[], Any]:
    from protoreq_generator.plugin import generate  # noqa: PLC0415
    from protoreq_generator.protoc import Invocation, descriptor_request  # noqa: PLC0415

    tree = Path(tempfile.mkdtemp(prefix="protoreq-tree-"))
    sources = write_tree(tree, files=files)
    request = descriptor_request(Invocation(includes=(tree,), sources=tuple(sources)))
    shutil.rmtree(tree)
    generate(request)  # compile the templates outside the profile
    return lambda: generate(request)


def main(argv: list[str] | None = None) -> int:
    from pyinstrument import Profiler  # noqa: PLC0415  # a dev dependency

    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("workload", choices=["unary", "async", "stream", "stream-async", "plugin"])
    parser.add_argument("-n", type=int, default=3000, help="calls, messages or tree files")
    parser.add_argument("--interval", type=float, default=0.0002, help="sampling interval (s)")
    parser.add_argument("--depth", type=int, default=None, help="hide frames below this share")
    args = parser.parse_args(argv)

    protos_dir = compile_protos()
    try:
        if args.workload == "plugin":
            run = _plugin(min(args.n, 100))
            profiler = Profiler(interval=args.interval)
            profiler.start()
            run()
            profiler.stop()
        else:
            with bench_server(protos_dir) as target:
                factories: dict[str, Callable[[str, int], Callable[[], Any]]] = {
                    "unary": _unary,
                    "async": _async,
                    "stream": _stream,
                    "stream-async": _stream_async,
                }
                run = factories[args.workload](target, args.n)
                profiler = Profiler(interval=args.interval, async_mode="disabled")
                profiler.start()
                run()
                profiler.stop()
    finally:
        shutil.rmtree(protos_dir, ignore_errors=True)
    print(profiler.output_text(unicode=True, color=False, show_all=False, short_mode=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
