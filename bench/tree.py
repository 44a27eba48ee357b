"""A large generated .proto tree, and the generator's timings on it.

Write the tree (default 100 files x 5 services x 10 RPCs = 5,000 RPCs)::

    python -m tests.generator.make_big_tree OUT_DIR

and time the plugin on it::

    python -m tests.generator.make_big_tree OUT_DIR --bench

Each file imports a shared ``big/common.proto``; each RPC has its own request
message with a scalar, an enum, an imported message, a repeated field, a map
and a proto3 ``optional``, and a leading comment, so rendering does the work
real files need. :func:`write_tree` is reused by ``bench/``.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

COMMON = """\
syntax = "proto3";

package big.common;

enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_ACTIVE = 1;
}

message Money {
  string currency = 1;
  int64 units = 2;
}

message Reply {
  string id = 1;
  Status status = 2;
}
"""


def _file_text(index: int, services: int, rpcs: int) -> str:
    lines = [
        'syntax = "proto3";',
        "",
        f"package big.f{index:03d};",
        "",
        'import "big/common.proto";',
        "",
    ]
    for s in range(services):
        lines.append(f"// Service {s} of file {index}.")
        lines.append(f"service Service{s} {{")
        for r in range(rpcs):
            lines.append(f"  // Does thing {r} of service {s}; see the manual, chapter {r}.")
            lines.append(
                f"  rpc DoThing{r}(S{s}Thing{r}Request) returns (big.common.Reply) {{"
                f"{'  option idempotency_level = NO_SIDE_EFFECTS;' if r % 2 else ''} }}"
            )
        lines.append("}")
        lines.append("")
    for s in range(services):
        for r in range(rpcs):
            lines += [
                f"message S{s}Thing{r}Request {{",
                "  string name = 1;",
                "  big.common.Status status = 2;",
                "  big.common.Money budget = 3;",
                "  repeated string tags = 4;",
                "  map<string, int64> counts = 5;",
                "  optional int32 limit = 6;",
                "}",
                "",
            ]
    return "\n".join(lines)


def write_tree(root: Path, *, files: int = 100, services: int = 5, rpcs: int = 10) -> list[Path]:
    """Write ``root/big/common.proto`` and ``root/big/fNNN.proto``; the service files, sorted."""
    folder = root / "big"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "common.proto").write_text(COMMON)
    written = []
    for index in range(files):
        path = folder / f"f{index:03d}.proto"
        path.write_text(_file_text(index, services, rpcs))
        written.append(path)
    return written


def _best(runs: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(runs):
        gc.collect()  # generation turns the collector off; start each run from a clean heap
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def bench(root: Path, runs: int = 5) -> dict[str, float]:
    """Seconds (best of ``runs``) for the plugin in process, as a process, and under protoc."""
    from protoreq_generator.plugin import generate  # noqa: PLC0415 -- keeps --help light
    from protoreq_generator.protoc import Invocation, descriptor_request  # noqa: PLC0415
    from tests.generator.support import script  # noqa: PLC0415

    sources = sorted((root / "big").glob("f*.proto"))
    request = descriptor_request(Invocation(includes=(root,), sources=tuple(sources)))
    data = request.SerializeToString()
    plugin = script("protoc-gen-protoreq")
    out = root / "out"
    out.mkdir(exist_ok=True)
    protoc = [sys.executable, "-m", "grpc_tools.protoc", f"-I{root}"]
    timings = {
        "in_process": _best(runs, lambda: generate(request)),
        "plugin_process": _best(
            runs, lambda: subprocess.run([plugin], input=data, capture_output=True, check=True)
        ),
        "protoc_with_plugin": _best(
            runs,
            lambda: subprocess.run(
                [*protoc, f"--plugin=protoc-gen-protoreq={plugin}", f"--protoreq_out={out}"]
                + [str(path) for path in sources],
                check=True,
            ),
        ),
        "protoc_alone": _best(
            runs,
            lambda: subprocess.run(
                [*protoc, f"--descriptor_set_out={out / 'set.pb'}"]
                + [str(path) for path in sources],
                check=True,
            ),
        ),
    }
    timings["rpcs"] = float(
        sum(len(service.method) for file in request.proto_file for service in file.service)
    )
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--services", type=int, default=5)
    parser.add_argument("--rpcs", type=int, default=10)
    parser.add_argument("--bench", action="store_true", help="time the plugin on the tree")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    write_tree(args.out, files=args.files, services=args.services, rpcs=args.rpcs)
    if args.bench:
        timings = bench(args.out, args.runs)
        rpcs = int(timings.pop("rpcs"))
        sys.stdout.write(f"{rpcs} RPCs, best of {args.runs} runs:\n")
        for name, seconds in timings.items():
            sys.stdout.write(f"  {name:<20} {seconds:7.3f} s\n")
        per_rpc = timings["in_process"] / rpcs * 1e6
        sys.stdout.write(f"  in-process per RPC    {per_rpc:7.1f} us\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
