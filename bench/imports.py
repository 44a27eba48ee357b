"""Import-time rows: a generated ``_protoreq`` module vs its grpcio ``_pb2_grpc`` twin.

Each measurement is a fresh interpreter that first imports the modules both
sides share (grpc, protobuf, ``protos.user_pb2``; and, where the row says so,
the protoreq runtime), then times ``importlib.import_module`` of the one
module under test.

Bytecode caching is set explicitly, whatever the calling environment says
(this one may set ``PYTHONDONTWRITEBYTECODE``): every probe gets its own
``PYTHONPYCACHEPREFIX``. "cached" rows use a prefix filled by a warm-up
import, so they load ``.pyc`` files; "from source" rows use an empty prefix
and ``PYTHONDONTWRITEBYTECODE=1``, so every module they import is compiled.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.budget import Budget
from bench.stats import Row, absolute_row, paired_row

_PROBE = """
import importlib, sys, time
for name in filter(None, sys.argv[2].split(",")):
    importlib.import_module(name)
started = time.perf_counter()
importlib.import_module(sys.argv[1])
print(time.perf_counter() - started)
"""

_SHARED = ["grpc", "google.protobuf", "protos.user_pb2"]
_RUNTIME = ["protoreq", "protoreq.generated", "protoreq.caller", "protoreq.response"]
"""The runtime modules a generated module uses (``protoreq`` itself loads its names lazily)."""
EXTRA_LIMIT_MS = 5.0
"""Issue 16's target for protoreq's own import cost on top of what a grpcio program loads."""


def _environment(protos_dir: Path, cache: Path, *, write_bytecode: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(protos_dir), *sys.path])
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _import_seconds(module: str, preloaded: list[str], env: dict[str, str]) -> float:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, module, ",".join(preloaded)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    )
    return float(result.stdout.strip())


def _extra_row(ours: list[float], theirs: list[float]) -> Row:
    """What ``import protoreq`` plus a generated module costs a program beyond its grpcio twin.

    The ratio row above divides by about 1 ms, which says little; the target is
    on the difference of each pair, against a fixed 5 ms.
    """
    extra = [(a - b) * 1000 for a, b in zip(ours, theirs, strict=True)]
    return absolute_row(
        "import protoreq + user_protoreq minus user_pb2_grpc, .pyc cached "
        f"(baseline: the {EXTRA_LIMIT_MS:g} ms limit)",
        "ms",
        extra,
        EXTRA_LIMIT_MS,
        "≤ 1.0",
    )


def import_time(protos_dir: Path, budget: Budget) -> list[Row]:
    scratch = Path(tempfile.mkdtemp(prefix="protoreq-pycache-"))
    try:
        return _import_time(protos_dir, scratch, budget)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _import_time(protos_dir: Path, scratch: Path, budget: Budget) -> list[Row]:
    cached = _environment(protos_dir, scratch / "warm", write_bytecode=True)
    for module in ("protos.user_protoreq", "protos.user_pb2_grpc"):  # fill the warm cache
        _import_seconds(module, [], cached)
    cases = {
        "deps preloaded, .pyc cached": (cached, _RUNTIME),
        "protoreq runtime included, .pyc cached": (cached, []),
    }
    rows: list[Row] = []
    for label, (env, ours_extra) in cases.items():
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(budget.import_repetitions):
            ours.append(_import_seconds("protos.user_protoreq", [*_SHARED, *ours_extra], env))
            theirs.append(_import_seconds("protos.user_pb2_grpc", _SHARED, env))
        rows.append(
            paired_row(
                f"import user_protoreq vs user_pb2_grpc ({label})",
                "ms",
                [s * 1000 for s in ours],
                [s * 1000 for s in theirs],
            )
        )
        if not ours_extra:
            rows.append(_extra_row(ours, theirs))
    ours, theirs = [], []
    for repetition in range(budget.import_repetitions):
        cold = _environment(protos_dir, scratch / f"cold-{repetition}", write_bytecode=False)
        ours.append(_import_seconds("protos.user_protoreq", [*_SHARED, *_RUNTIME], cold))
        theirs.append(_import_seconds("protos.user_pb2_grpc", _SHARED, cold))
    rows.append(
        paired_row(
            "import user_protoreq vs user_pb2_grpc (deps preloaded, from source, no .pyc)",
            "ms",
            [s * 1000 for s in ours],
            [s * 1000 for s in theirs],
        )
    )
    return rows
