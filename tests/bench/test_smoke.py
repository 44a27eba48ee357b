"""``python -m bench --quick`` end to end, so the benchmark cannot rot.

Quick mode runs every section with tiny loops (its numbers mean nothing) and
must print the full table; nothing here looks at timings.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.environment import REPO_ROOT
from bench.run import OTHER_SECTIONS, RPC_SECTIONS

EXPECTED_ROWS = (
    "unary sync vs raw+trace id: client CPU per call",
    "unary async c=64 vs raw+trace id: throughput",
    "server stream sync",
    "server stream async",
    "pool_size=4 vs pool_size=1",
    "one no-op interceptor vs none, sync",
    "one no-op interceptor vs none, async",
    "OpenTelemetryInterceptor vs raw stub + otel-instrumentation-grpc",
    "protoreq generate vs protoc",
    "plugin alone",
    "import user_protoreq vs user_pb2_grpc",
)


@pytest.mark.timeout(120)
def test_quick_run_prints_every_row() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "QUICK MODE" in table
    for row in EXPECTED_ROWS:
        assert row in table, f"missing row {row!r} in:\n{table}"
    for section in (*RPC_SECTIONS, *OTHER_SECTIONS):
        assert f"  {section}:" in result.stderr  # each section reported its duration
