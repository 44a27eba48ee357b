"""``python -m bench --instructions``: CPU instructions and client CPU time per call, every client.

Each case (:mod:`bench.cases`) runs in a child process of its own, twice:

* under ``valgrind --tool=callgrind --instr-atstart=no``, with two windows of N
  and 3N operations between the callgrind markers (:mod:`bench.callgrind`);
  instructions per operation are ``(I(3N) - I(N)) / 2N``, so what a window
  costs once (the markers, the first-call effects left after warm-up) cancels.
  Instruction counts do not depend on the machine's load;
* natively, for client CPU time (``time.process_time()`` of the child, its
  grpcio threads and kernel time included): the median over a few windows of
  3N operations. These swing by ±10 % on a busy machine.

The server is :mod:`bench.server` in its own unmeasured process. Every ratio is
against the raw grpcio stub of the same group sending the same metadata.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import callgrind, peer_stubs
from bench.cases import CASES, GROUPS
from bench.environment import REPO_ROOT, bench_server, compile_protos

_CHILD_SECONDS = 900.0
"""One child's wall-clock limit (valgrind makes Python 50 to 100 times slower)."""

BASELINE = "raw"

LABELS = {
    "raw": "raw grpcio stub, same metadata (baseline)",
    "protoreq": "protoreq",
    "protoreq+noop": "protoreq + one no-op Interceptor",
    "protoreq+otel": "protoreq + OpenTelemetryInterceptor",
    "protoreq+otel-lean": "protoreq + OpenTelemetryInterceptor, lean (attempt_spans, no metrics)",
    "raw+otel-grpc": "raw stub + opentelemetry-instrumentation-grpc",
    "gapic": "google-api-core wrap_method (raw stub)",
    "betterproto2": "betterproto2",
    "grpclib": "grpclib",
    "connect": "connect-python (connectrpc), gRPC protocol",
}

NOTES = {
    "unary-sync/betterproto2": "sync stub on grpcio: sends no metadata, no deadline",
    "stream-sync/betterproto2": "sync stub on grpcio: sends no metadata, no deadline",
    "unary-async/betterproto2": "async stub on grpclib",
    "stream-async/betterproto2": "async stub on grpclib",
    "unary-sync/gapic": "adds x-goog-api-client",
    "unary-async/gapic": "adds x-goog-api-client",
    "stream-sync/gapic": "adds x-goog-api-client",
    "stream-async/gapic": "adds x-goog-api-client",
}

_PEERS = {"betterproto2": "betterproto2", "grpclib": "grpclib", "connect": "connect"}

GROUP_TITLES = {
    "unary-sync": "sync unary, per call",
    "unary-async": "async unary (grpc.aio), per call",
    "stream-sync": "sync server stream, per message",
    "stream-async": "async server stream, per message",
}


@dataclass
class Settings:
    calls: int = 100
    """N for unary cases: windows of N and 3N calls."""
    messages: int = 500
    """N for stream cases: one stream of N and one of 3N messages."""
    time_windows: int = 5
    """Native windows (of 3N operations) whose median gives CPU time per operation."""
    jobs: int = 2
    """Valgrind children run at once (counts do not depend on load)."""
    cases: tuple[str, ...] = ()
    """Only these cases (``group/client`` or a prefix such as ``unary-sync``); all when empty."""
    annotate: tuple[str, ...] = ()
    """Cases whose 3N window is summarised by ``callgrind_annotate``."""
    with_time: bool = True
    pairs: int = 3
    """(N, 3N) window pairs per child; instructions per operation is their median."""
    fair_sched: bool = False


@dataclass
class Result:
    case: str
    instructions: float | None = None
    cpu_us: float | None = None
    skipped: str = ""
    annotation: str = ""
    pairs: list[float] = field(default_factory=list)
    """Instructions per operation from each (N, 3N) pair of windows."""


def selected(patterns: Sequence[str]) -> list[str]:
    if not patterns:
        return list(CASES)
    chosen = [
        name for name in CASES if any(name == p or name.startswith(p + "/") for p in patterns)
    ]
    if not chosen:
        raise SystemExit(f"no case matches {list(patterns)}; cases: {', '.join(CASES)}")
    return chosen


def _size(case: str, settings: Settings) -> int:
    return settings.messages if case.startswith("stream") else settings.calls


def _child(
    case: str, target: str, protos: Path, windows: list[int], warmup: int, marker: Path | None
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "bench.counting",
        case,
        f"--target={target}",
        f"--protos={protos}",
        f"--windows={','.join(map(str, windows))}",
        f"--warmup={warmup}",
    ]
    return [*command, f"--marker={marker}"] if marker is not None else command


def _run_child(command: list[str]) -> dict[str, object]:
    done = subprocess.run(
        command,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=_CHILD_SECONDS,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        last = [line for line in done.stderr.splitlines() if line.strip()][-1:] or ["no output"]
        return {"skipped": f"child failed (exit {done.returncode}): {last[0].strip()}"}
    answer: dict[str, object] = json.loads(lines[-1])
    return answer


def count_instructions(
    case: str, target: str, protos: Path, marker: Path, settings: Settings
) -> Result:
    n = _size(case, settings)
    scratch = Path(tempfile.mkdtemp(prefix="protoreq-callgrind-"))
    try:
        out_file = scratch / "callgrind.out"
        command = [
            *callgrind.valgrind_command(out_file, fair=settings.fair_sched),
            *_child(case, target, protos, [n, 3 * n] * settings.pairs, max(n // 10, 5), marker),
        ]
        answer = _run_child(command)
        if "skipped" in answer:
            return Result(case, skipped=str(answer["skipped"]))
        dumps = callgrind.window_dumps(out_file)
        if len(dumps) != 2 * settings.pairs:
            return Result(case, skipped=f"callgrind wrote {len(dumps)} window dumps, not 2")
        counts = [callgrind.instructions(dump) for dump in dumps]
        per_op = [
            (large - small) / (2 * n)
            for small, large in zip(counts[::2], counts[1::2], strict=True)
        ]
        annotation = callgrind.top_functions(dumps[-1], 25) if case in settings.annotate else ""
        return Result(
            case,
            instructions=statistics.median(per_op),
            annotation=annotation,
            pairs=per_op,
        )
    except subprocess.TimeoutExpired:
        return Result(case, skipped=f"timed out after {_CHILD_SECONDS:.0f} s under valgrind")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def cpu_time(case: str, target: str, protos: Path, settings: Settings) -> float | None:
    """Median client CPU µs per operation over native windows of 3N operations."""
    n = _size(case, settings)
    windows = [3 * n] * settings.time_windows
    try:
        answer = _run_child(_child(case, target, protos, windows, n, None))
    except subprocess.TimeoutExpired:
        return None
    if "skipped" in answer:
        return None
    measured = answer["windows"]
    assert isinstance(measured, list)
    per_op: list[float] = [float(w["cpu"]) * 1e6 / float(w["ops"]) for w in measured]
    return statistics.median(per_op)


def run(settings: Settings) -> tuple[list[Result], str]:
    """Measure every selected case; the results and a header line (date, machine, versions)."""
    from bench.run import _machine  # noqa: PLC0415

    cases = selected(settings.cases)
    protos = compile_protos()
    scratch = Path(tempfile.mkdtemp(prefix="protoreq-marker-"))
    results: dict[str, Result] = {}
    try:
        needed = {_PEERS[c.partition("/")[2]] for c in cases if c.partition("/")[2] in _PEERS}
        codegen_failures = peer_stubs.generate(protos, sorted(needed))
        try:
            marker: Path | None = callgrind.build_marker(scratch)
            unavailable = ""
        except callgrind.UnavailableError as reason:
            marker, unavailable = None, str(reason)
        with bench_server(protos) as target:
            if marker is not None:
                with ThreadPoolExecutor(max_workers=max(settings.jobs, 1)) as pool:
                    for result in pool.map(
                        lambda c: _announce(
                            count_instructions(c, target, protos, marker, settings)
                        ),
                        cases,
                    ):
                        results[result.case] = result
            else:
                results = {case: Result(case, skipped=unavailable) for case in cases}
            if settings.with_time:
                for case in cases:
                    if results[case].skipped and marker is not None:
                        continue
                    results[case].cpu_us = cpu_time(case, target, protos, settings)
        for case, result in results.items():
            client = case.partition("/")[2]
            if result.skipped and client in _PEERS and _PEERS[client] in codegen_failures:
                result.skipped = codegen_failures[_PEERS[client]]
    finally:
        shutil.rmtree(protos, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    header = (
        f"protoreq instruction bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {_machine()}; "
        f"{versions()}; N = {settings.calls} calls, {settings.messages} messages"
    )
    return [results[case] for case in cases], header


def _announce(result: Result) -> Result:
    what = (
        f"skipped: {result.skipped[:200]}"
        if result.skipped
        else f"{result.instructions:,.0f} instructions per op"
    )
    spread = ", ".join(f"{p:,.0f}" for p in result.pairs)
    print(f"  {result.case}: {what} (pairs: {spread})", file=sys.stderr, flush=True)
    return result


def versions() -> str:
    from importlib import metadata  # noqa: PLC0415

    names = (
        "grpcio",
        "protobuf",
        "opentelemetry-sdk",
        "opentelemetry-instrumentation-grpc",
        "google-api-core",
        "betterproto2",
        "betterproto2-compiler",
        "grpclib",
        "connectrpc",
        "pyqwest",
    )
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    valgrind = shutil.which("valgrind")
    if valgrind is not None:
        done = subprocess.run([valgrind, "--version"], capture_output=True, text=True, check=False)
        found.append(done.stdout.strip())
    return ", ".join(found)


def _ratio(value: float | None, baseline: float | None) -> str:
    if value is None or not baseline:
        return "-"
    return f"{value / baseline:.3f}"


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render(results: Iterable[Result]) -> str:
    """One Markdown table per group, every ratio against that group's raw stub."""
    by_case = {result.case: result for result in results}
    sections = []
    for group in GROUPS:
        rows = [r for name, r in by_case.items() if name.startswith(group + "/")]
        if not rows:
            continue
        base = by_case.get(f"{group}/{BASELINE}")
        base_ir = base.instructions if base else None
        base_cpu = base.cpu_us if base else None
        lines = [
            f"**{GROUP_TITLES[group]}**",
            "",
            "| client | instructions | ± pairs | vs raw | client CPU µs | vs raw | |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for row in rows:
            client = row.case.partition("/")[2]
            label = LABELS.get(client, client)
            if row.skipped:
                lines.append(f"| {label} | skipped: {_one_line(row.skipped)} | | | | | |")
                continue
            note = NOTES.get(row.case, "")
            lines.append(
                f"| {label} | {_number(row.instructions)} | {_spread(row)} "
                f"| {_ratio(row.instructions, base_ir)} "
                f"| {_number(row.cpu_us, 1)} | {_ratio(row.cpu_us, base_cpu)} | {note} |"
            )
        otel = by_case.get(f"{group}/protoreq+otel")
        standard = by_case.get(f"{group}/raw+otel-grpc")
        plain = by_case.get(f"{group}/protoreq")
        noop = by_case.get(f"{group}/protoreq+noop")
        extra = []
        if otel and standard and not otel.skipped and not standard.skipped:
            extra.append(
                "OpenTelemetryInterceptor vs raw stub + opentelemetry-instrumentation-grpc: "
                f"{_ratio(otel.instructions, standard.instructions)} instructions, "
                f"{_ratio(otel.cpu_us, standard.cpu_us)} CPU"
            )
        lean = by_case.get(f"{group}/protoreq+otel-lean")
        if lean and standard and not lean.skipped and not standard.skipped:
            ratios = (
                f"{_ratio(lean.instructions, standard.instructions)} instructions, "
                f"{_ratio(lean.cpu_us, standard.cpu_us)} CPU"
            )
            extra.append(
                'OpenTelemetryInterceptor(attempt_spans="retried") without metrics vs raw stub '
                f"+ opentelemetry-instrumentation-grpc: {ratios}"
            )
        if noop and plain and not noop.skipped and not plain.skipped:
            extra.append(
                "one no-op Interceptor vs none: "
                f"{_ratio(noop.instructions, plain.instructions)} instructions"
            )
        if extra:
            lines += ["", *(f"* {line}" for line in extra)]
        sections.append("\n".join(lines))
    annotations = [
        f"callgrind_annotate, {r.case}, 3N window:\n```\n{r.annotation}\n```"
        for r in by_case.values()
        if r.annotation
    ]
    return "\n\n".join([*sections, *annotations])


def _spread(result: Result) -> str:
    """Half the range of the per-pair counts, in % of their median: how repeatable the count is."""
    if len(result.pairs) < 2 or not result.instructions:
        return ""
    return f"{(max(result.pairs) - min(result.pairs)) / 2 / result.instructions:.1%}"


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "/")[:300]


def main(settings: Settings) -> int:
    started = time.perf_counter()
    results, header = run(settings)
    print(header)
    print()
    print(render(results))
    print()
    print(f"took {time.perf_counter() - started:.0f} s")
    return 0
