"""Cut the part of etcd's v3 API that protoreq's etcd registry speaks out of etcd's own protos.

Run by scripts/regen-etcd: ``python scripts/etcd_protos.py SOURCE_ROOT VERSION OUT_DIR``,
where SOURCE_ROOT holds etcd's ``etcdserver/etcdserverpb/rpc.proto`` and
``mvcc/mvccpb/kv.proto`` (Debian's golang-etcd-server-dev installs them under
/usr/share/gocode/src/go.etcd.io/etcd). It writes ``rpc.proto`` and ``kv.proto`` into OUT_DIR:

* only the services, RPCs and messages listed below, with etcd's comments;
* without the gogoproto and google.api.http annotations (Go and HTTP-gateway code generation
  only; their imports would need protos nobody else ships), so protoc compiles them alone;
* with ``idempotency_level`` on the RPCs that are safe to resend, so a protoreq client's
  default retry policy covers them and nothing else (etcd's protos mark none).

Package and message names, field numbers and RPC paths stay etcd's: the wire format is the same.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SERVICES: dict[str, dict[str, str | None]] = {
    # service -> rpc -> idempotency level (None: leave unmarked, not retried by default)
    "KV": {"Range": "NO_SIDE_EFFECTS", "Put": "IDEMPOTENT", "DeleteRange": "IDEMPOTENT"},
    "Watch": {"Watch": None},
    # A retried grant could leave a second lease behind (it expires after its TTL): unmarked.
    "Lease": {"LeaseGrant": None, "LeaseRevoke": "IDEMPOTENT", "LeaseKeepAlive": None},
}
RPC_MESSAGES = (
    "ResponseHeader",
    "RangeRequest",
    "RangeResponse",
    "PutRequest",
    "PutResponse",
    "DeleteRangeRequest",
    "DeleteRangeResponse",
    "WatchRequest",
    "WatchCreateRequest",
    "WatchCancelRequest",
    "WatchProgressRequest",
    "WatchResponse",
    "LeaseGrantRequest",
    "LeaseGrantResponse",
    "LeaseRevokeRequest",
    "LeaseRevokeResponse",
    "LeaseKeepAliveRequest",
    "LeaseKeepAliveResponse",
)
KV_MESSAGES = ("KeyValue", "Event")
KV_IMPORT = "protoreq/_etcd/kv.proto"

_BLOCK_START = re.compile(r"^(message|service|enum)\s+(\w+)\s*\{")
_RPC_START = re.compile(r"^\s*rpc\s+(\w+)\s*\(.*\)\s*returns\s*\(.*\)")
_GOGO_FIELD_OPTIONS = re.compile(r"\s*\[\s*\(gogoproto\.[^\]]*\]")


def _closing_line(lines: list[str], start: int) -> int:
    """Index of the line whose ``}`` closes the block opened on ``lines[start]``."""
    depth = 0
    for index in range(start, len(lines)):
        depth += lines[index].count("{") - lines[index].count("}")
        if depth == 0:
            return index
    raise ValueError(f"unbalanced braces from line {start + 1}")


def _leading_comments(lines: list[str], start: int) -> list[str]:
    """The ``//`` comment lines right above ``lines[start]``."""
    first = start
    while first > 0 and lines[first - 1].strip().startswith("//"):
        first -= 1
    return lines[first:start]


def _top_level_blocks(text: str) -> dict[str, list[str]]:
    """Each top-level message/service/enum, with the comments above it, by name."""
    lines = text.splitlines()
    blocks: dict[str, list[str]] = {}
    index = 0
    while index < len(lines):
        match = _BLOCK_START.match(lines[index])
        if match is None:
            index += 1
            continue
        end = _closing_line(lines, index)
        blocks[match.group(2)] = _leading_comments(lines, index) + lines[index : end + 1]
        index = end + 1
    return blocks


def _service(block: list[str], rpcs: dict[str, str | None]) -> list[str]:
    """The service with only ``rpcs``, each without its HTTP annotation."""
    kept = [block[0]]
    index = 1
    while index < len(block) - 1:
        match = _RPC_START.match(block[index])
        if match is None:
            index += 1
            continue
        end = _closing_line(block, index) if "{" in block[index] else index
        name = match.group(1)
        if name in rpcs:
            if len(kept) > 1:
                kept.append("")
            kept += _leading_comments(block, index)
            signature = block[index].split("{")[0].rstrip().rstrip(";")
            level = rpcs[name]
            if level is None:
                kept.append(f"{signature};")
            else:
                kept += [f"{signature} {{", f"    option idempotency_level = {level};", "  }"]
        index = end + 1
    missing = set(rpcs) - {m.group(1) for line in block if (m := _RPC_START.match(line))}
    if missing:
        raise ValueError(f"rpcs not found: {sorted(missing)}")
    return [*kept, "}"]


def _message(block: list[str]) -> list[str]:
    return [_GOGO_FIELD_OPTIONS.sub("", line) for line in block]


def _pick(blocks: dict[str, list[str]], names: tuple[str, ...], source: str) -> list[str]:
    missing = [name for name in names if name not in blocks]
    if missing:
        raise ValueError(f"{source} has no {missing}")
    out: list[str] = []
    for name in names:
        out += ["", *_message(blocks[name])]
    return out


def _header(source: str, version: str, package: str, imports: tuple[str, ...]) -> list[str]:
    lines = [
        f"// etcd {version}'s {source}, cut down by scripts/regen-etcd for protoreq.",
        "// Only the RPCs and messages it uses; no gogoproto or google.api annotations;",
        "// idempotency_level added where a retry is safe. Names, numbers and paths are etcd's.",
        'syntax = "proto3";',
        f"package {package};",
    ]
    if imports:
        lines += ["", *(f'import "{name}";' for name in imports)]
    return lines


def rpc_proto(text: str, version: str) -> str:
    blocks = _top_level_blocks(text)
    lines = _header("etcdserver/etcdserverpb/rpc.proto", version, "etcdserverpb", (KV_IMPORT,))
    for name, rpcs in SERVICES.items():
        lines += ["", *_service(blocks[name], rpcs)]
    lines += _pick(blocks, RPC_MESSAGES, "rpc.proto")
    return "\n".join(lines) + "\n"


def kv_proto(text: str, version: str) -> str:
    lines = _header("mvcc/mvccpb/kv.proto", version, "mvccpb", ())
    lines += _pick(_top_level_blocks(text), KV_MESSAGES, "kv.proto")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    source_root, version, out_dir = Path(argv[0]), argv[1], Path(argv[2])
    rpc = (source_root / "etcdserver/etcdserverpb/rpc.proto").read_text()
    kv = (source_root / "mvcc/mvccpb/kv.proto").read_text()
    (out_dir / "rpc.proto").write_text(rpc_proto(rpc, version))
    (out_dir / "kv.proto").write_text(kv_proto(kv, version))


if __name__ == "__main__":
    main(sys.argv[1:])
