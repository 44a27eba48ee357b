"""A large generated .proto tree: the generator rows' workload.

Write the tree (default 100 files x 5 services x 10 RPCs = 5,000 RPCs)::

    python -m bench.tree OUT_DIR

Each file imports a shared ``big/common.proto``; each RPC has its own request
message with a scalar, an enum, an imported message, a repeated field, a map
and a proto3 ``optional``, and a leading comment, so rendering does the work
real files need.
"""

from __future__ import annotations

import argparse
import sys
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--services", type=int, default=5)
    parser.add_argument("--rpcs", type=int, default=10)
    args = parser.parse_args(argv)
    written = write_tree(args.out, files=args.files, services=args.services, rpcs=args.rpcs)
    sys.stdout.write(f"{len(written)} files, {len(written) * args.services * args.rpcs} RPCs\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
