"""Rewrite the golden files: ``python -m tests.generator.regen_golden``.

Regenerates ``tests/golden/`` from ``protos/`` with the current generator and
removes golden files no .proto produces any more. Review the diff, then commit.
"""

from __future__ import annotations

import sys

from tests.generator.support import GOLDEN_DIR, golden_outputs


def main() -> int:
    outputs = golden_outputs()
    for stale in sorted(GOLDEN_DIR.rglob("*_protoreq.py")):
        if stale.relative_to(GOLDEN_DIR).as_posix() not in outputs:
            stale.unlink()
            sys.stdout.write(f"removed {stale}\n")
    for name, content in sorted(outputs.items()):
        target = GOLDEN_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        old = target.read_bytes() if target.exists() else None
        if old != content.encode():
            target.write_bytes(content.encode())
            sys.stdout.write(f"wrote {target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
