"""The server process, the compiled protos, and timing one variant.

Client CPU is ``time.process_time()`` of this process — it includes grpcio's
own threads — divided by the calls made; the server runs in another process.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Sample:
    cpu_us_per_op: float
    ops_per_second: float


def compile_protos() -> Path:
    """protoc output for protos/ (``protos.user_pb2``, ``protos.user_protoreq``) on sys.path."""
    out = Path(tempfile.mkdtemp(prefix="protoreq-bench-"))
    sources = sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "protos").glob("*.proto"))
    subprocess.run(
        [sys.executable, "-m", "protoreq_generator.cli", "generate", "-I", str(REPO_ROOT),
         *sources, "-o", str(out)],
        check=True,
        cwd=REPO_ROOT,
    )  # fmt: skip
    sys.path.insert(0, str(out))
    return out


@contextmanager
def bench_server(protos_dir: Path) -> Iterator[str]:
    """Start ``bench.server`` in a child process; yield its ``127.0.0.1:port``."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.server", str(protos_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        yield f"127.0.0.1:{port}"
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()


def time_sync(operation: Callable[[], object], count: int) -> Sample:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        operation()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Sample(cpu * 1e6 / count, count / wall)


async def time_async(
    operation: Callable[[], Awaitable[object]], count: int, concurrency: int
) -> Sample:
    """``count`` operations spread over ``concurrency`` workers on the running loop."""
    share = max(1, count // concurrency)

    async def worker() -> None:
        for _ in range(share):
            await operation()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = share * concurrency
    return Sample(cpu * 1e6 / done, done / wall)
