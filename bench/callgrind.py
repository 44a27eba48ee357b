"""Counting a process's CPU instructions with valgrind's callgrind, over marked windows only.

The child runs under ``valgrind --tool=callgrind --instr-atstart=no``: nothing is
instrumented (and nothing counted) while Python starts, imports grpc and connects.
Around each measured window the child calls a two-function marker library,
compiled here from valgrind's own ``callgrind.h`` client requests:
``bench_window_start`` (zero the counters, start instrumenting) and
``bench_window_stop`` (stop instrumenting, dump the counters to a numbered file).
Client requests act at once and for every thread of the process, so grpcio's
own threads (the sync channel's poller, grpc.aio's completion queue) are
counted while a window is open, and nothing outside the windows is.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

_MARKER_SOURCE = r"""
#include <valgrind/callgrind.h>

void bench_window_start(void) {
    CALLGRIND_ZERO_STATS;
    CALLGRIND_START_INSTRUMENTATION;
}

void bench_window_stop(void) {
    CALLGRIND_STOP_INSTRUMENTATION;
    CALLGRIND_DUMP_STATS_AT("bench window");
}
"""

_HEADER = Path("/usr/include/valgrind/callgrind.h")


class UnavailableError(RuntimeError):
    """Instruction counts cannot be taken here; the message says why (it becomes a skip row)."""


def build_marker(out_dir: Path) -> Path:
    """Compile the marker library into ``out_dir``; :class:`UnavailableError` if it cannot be."""
    if shutil.which("valgrind") is None:
        raise UnavailableError("valgrind is not installed (bash scripts/bench-setup installs it)")
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise UnavailableError("no C compiler (cc) to build the callgrind marker")
    if not _HEADER.exists():
        raise UnavailableError(f"{_HEADER} is missing (Debian's valgrind package ships it)")
    source = out_dir / "bench_marker.c"
    library = out_dir / "bench_marker.so"
    source.write_text(_MARKER_SOURCE)
    done = subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", "-o", str(library), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise UnavailableError(
            f"building the callgrind marker failed: {done.stderr.strip()[-300:]}"
        )
    return library


def window_markers(library: str | None) -> tuple[Callable[[], None], Callable[[], None]]:
    """``(start, stop)`` for a window: the marker's functions, or no-ops when not counting."""
    if library is None:
        return (lambda: None), (lambda: None)
    marker = ctypes.CDLL(library)
    return marker.bench_window_start, marker.bench_window_stop


def valgrind_command(out_file: Path, *, fair: bool = False) -> list[str]:
    """The prefix that runs a child under callgrind, instrumenting nothing until a marker says."""
    return [
        "valgrind",
        "--tool=callgrind",
        *(["--fair-sched=yes"] if fair else []),
        "--instr-atstart=no",
        f"--callgrind-out-file={out_file}",
        "--dump-instr=no",
        "--compress-strings=no",
        "--compress-pos=no",
        "--quiet",
    ]


_TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


def window_dumps(out_file: Path) -> list[Path]:
    """The numbered dumps ``out_file.1``, ``out_file.2``... one per window, in order."""
    dumps = [p for p in out_file.parent.glob(f"{out_file.name}.*") if p.suffix[1:].isdigit()]
    return sorted(dumps, key=lambda p: int(p.suffix[1:]))


def instructions(dump: Path) -> int:
    """Instructions executed (``Ir``) in one dump."""
    match = _TOTALS.search(dump.read_text(errors="replace"))
    if match is None:
        raise RuntimeError(f"no totals in {dump}")
    return int(match.group(1))


def top_functions(dump: Path, count: int) -> str:
    """``callgrind_annotate``'s top functions of one dump (exclusive instructions)."""
    done = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(dump)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if "file:function" in line), None)
    if start is None:
        return done.stdout[-2000:] + done.stderr[-500:]
    return "\n".join(lines[start - 1 : start + 2 + count])


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="protoreq-callgrind-"))
