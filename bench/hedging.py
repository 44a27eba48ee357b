"""The tail-latency row: an idempotent call hedged against the same call unhedged.

The bench server answers GetUser for ``user_id="tail"`` ``TAIL_SECONDS`` late
``TAIL_SHARE`` of the time (5 %, at random), as a server with a slow replica,
a GC pause or a cold cache does. An unhedged client's p99 is then the slow
answer; a client with ``HedgingPolicy(hedging_delay=...)`` sends a second
attempt after the delay, so its p99 is about the delay plus a fast answer.
Calls alternate between the two clients, so both see the same server. The
"server arrivals per call" row is what hedging costs the server.
"""

from __future__ import annotations

import statistics
import time

from bench.budget import Budget
from bench.server import TAIL_SECONDS, TAIL_SHARE, TAIL_USER
from bench.stats import Row

HEDGING_DELAY = 0.01
"""Seconds before the hedge: a little over the server's usual answer time here."""


def tail_latency(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient, HedgingPolicy  # noqa: PLC0415
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    calls = max(20, budget.unary_calls)
    hedged_ms: list[float] = []
    plain_ms: list[float] = []
    attempts = 0
    policy = HedgingPolicy(max_attempts=2, hedging_delay=HEDGING_DELAY)
    with GrpcClient(target, hedging=policy) as hedged, GrpcClient(target) as plain:
        for client in (hedged, plain):  # connect first
            client.call(GetUserGrpcRequest(user_id="1"))
        until = time.monotonic() + budget.seconds_per_loop * 4
        for _ in range(calls):
            for client, times in ((hedged, hedged_ms), (plain, plain_ms)):
                started = time.perf_counter()
                response = client.call(GetUserGrpcRequest(user_id=TAIL_USER))
                times.append((time.perf_counter() - started) * 1000)
                if not response.is_success():
                    raise RuntimeError(f"tail-latency call failed: {response}")
                if client is hedged:
                    attempts += response.attempts()
            if time.monotonic() > until:
                break
    slow = f"{TAIL_SHARE:.0%} of answers {TAIL_SECONDS * 1000:.0f} ms late"
    rows = []
    for label, quantile in (("p50", 50), ("p99", 99)):
        ours, theirs = _percentile(hedged_ms, quantile), _percentile(plain_ms, quantile)
        rows.append(
            Row(
                f"unary, {label} latency, hedged ({HEDGING_DELAY * 1000:.0f} ms) vs not; {slow}",
                "ms",
                ours,
                theirs,
                ours / theirs if theirs else float("nan"),
                "< 0.5" if quantile == 99 else "",
            )
        )
    rows.append(
        Row(
            "unary, server arrivals per hedged call (the cost of hedging)",
            "calls",
            attempts / len(hedged_ms),
            1.0,
            attempts / len(hedged_ms),
        )
    )
    return rows


def _percentile(values: list[float], quantile: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[quantile - 1]
