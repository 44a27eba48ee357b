"""``python -m bench --instructions`` end to end on one tiny case, so the callgrind mode cannot rot.

Valgrind makes the child 50 to 100 times slower, so the run is one case (the raw
grpcio stub, sync unary) with ten calls per window: its count means little, but
the table must have its shape and the count must be a plausible number of
instructions for one gRPC call. Without valgrind the test skips, except in CI,
where scripts/system-packages installs it and a skip would hide a broken mode.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from bench.cases import SkippedError, peer
from bench.environment import REPO_ROOT
from bench.instructions import Result, render

IN_CI = os.environ.get("CI") == "true"


def _require_valgrind() -> None:
    if shutil.which("valgrind") is None:
        if IN_CI:
            pytest.fail("valgrind is missing in CI: scripts/system-packages should install it")
        pytest.skip("valgrind is not installed (bash scripts/bench-setup)")


@pytest.mark.timeout(180)
def test_instruction_count_of_one_case_has_the_table_shape() -> None:
    _require_valgrind()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--instructions",
            "--case",
            "unary-sync/raw",
            "--calls",
            "10",
            "--time-windows",
            "1",
            "--jobs",
            "1",
            "--pairs",
            "1",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "protoreq instruction bench" in table
    assert "valgrind-" in table  # the header names the versions, valgrind's included
    assert "**sync unary, per call**" in table
    row = re.search(
        r"^\| raw grpcio stub, same metadata \(baseline\) \| ([\d,]+) \|[^|]*"
        r"\| 1\.000 \| ([\d.,]+) \| 1\.000 \|",
        table,
        re.MULTILINE,
    )
    assert row is not None, table
    per_call = int(row.group(1).replace(",", ""))
    # One loopback unary call through grpcio is a few hundred thousand instructions; a broken
    # window (nothing counted, or start-up counted) would be far outside this.
    assert 20_000 < per_call < 5_000_000, table
    assert float(row.group(2).replace(",", "")) > 0  # client CPU µs, from the native child


def test_a_missing_peer_is_a_skipped_row_not_a_crash() -> None:
    with pytest.raises(SkippedError, match="no_such_peer_module not installed"):
        peer("no_such_peer_module", "no_such_peer_module")
    table = render(
        [
            Result("unary-async/raw", instructions=300_000.0, cpu_us=400.0),
            Result("unary-async/grpclib", skipped="grpclib not installed (pip install ...)"),
        ]
    )
    assert "| grpclib | skipped: grpclib not installed (pip install ...) |" in table
    baseline = "| raw grpcio stub, same metadata (baseline) | 300,000 |  | 1.000 | 400.0 | 1.000 |"
    assert baseline in table
