"""A server process killed and restarted on its port: idempotent calls ride through.

With the client's defaults, a restart with about 0.2 s of downtime must lose
no call of an RPC the proto marks safe to repeat (sync or async), while a
call of any other RPC is still sent once: its failure is the caller's to see.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

from protoreq import GrpcClient, GrpcResponse, RetryPolicy
from tests.resilience.requests import CreateUser, GetUser
from tests.support.protos import REPO_ROOT
from tests.support.servers import unused_port

pytestmark = pytest.mark.timeout(60)

DOWNTIME = 0.2
CALLING_FOR = 3.0  # seconds of traffic; the restart happens in the middle
CONCURRENT = (
    8  # callers at once (sync threads, or async tasks): more than the budget allows to fail
)


class UserServerProcess:
    """tests.resilience.user_server in a process of its own, started and SIGKILLed at will."""

    def __init__(self, compiled_protos: Path) -> None:
        self._env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(compiled_protos)]),
        }
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.resilience.user_server", str(self.port)],
            cwd=REPO_ROOT,
            env=self._env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()
        if not port.isdigit():
            self.kill()
            raise RuntimeError(f"user server process did not start (printed {port!r})")
        self.port = int(port)

    def kill(self) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
        self.process = None

    def restart(self, downtime: float) -> None:
        self.kill()
        time.sleep(downtime)
        self.start()


@pytest.fixture
def user_process(compiled_protos: Path) -> Iterator[UserServerProcess]:
    process = UserServerProcess(compiled_protos)
    try:
        yield process
    finally:
        process.kill()


@dataclass
class Tally:
    """What the callers saw; ``failed`` keeps the failures for the assertion message."""

    safe: list[GrpcResponse[Any]] = field(default_factory=list)
    unsafe: list[GrpcResponse[Any]] = field(default_factory=list)

    def lost(self) -> list[GrpcResponse[Any]]:
        return [response for response in self.safe if not response.is_success()]

    def report(self, mode: str, took: float) -> str:
        unsafe_failed = sum(not response.is_success() for response in self.unsafe)
        return (
            f"{mode}: {len(self.safe)} idempotent calls, {len(self.lost())} lost, "
            f"max attempts {max(r.attempts() for r in self.safe)}, "
            f"longest {max(r.elapsed() for r in self.safe):.2f}s; "
            f"{len(self.unsafe)} non-idempotent calls, {unsafe_failed} failed; {took:.2f}s"
        )


def restart_midway(process: UserServerProcess) -> threading.Thread:
    def restart() -> None:
        time.sleep(CALLING_FOR / 3)
        process.restart(DOWNTIME)

    thread = threading.Thread(target=restart, daemon=True)
    thread.start()
    return thread


def call_sync(client: GrpcClient, tally: Tally, until: float) -> None:
    turn = 0
    while time.monotonic() < until:
        turn += 1
        if turn % 5:
            tally.safe.append(client.call(GetUser(f"u-{turn}")))
        else:
            tally.unsafe.append(client.call(CreateUser(f"N{turn}")))
        time.sleep(0.005)


async def call_async(client: GrpcClient, tally: Tally, until: float) -> None:
    turn = 0
    while time.monotonic() < until:
        turn += 1
        if turn % 5:
            tally.safe.append(await client.call_async(GetUser(f"u-{turn}")))
        else:
            tally.unsafe.append(await client.call_async(CreateUser(f"N{turn}")))
        await asyncio.sleep(0.005)


def check(tally: Tally, mode: str, took: float) -> None:
    summary = tally.report(mode, took)
    print(summary)  # the numbers, with -s
    assert tally.lost() == [], summary
    assert all(response.attempts() == 1 for response in tally.unsafe), summary
    assert len(tally.safe) > 20, summary  # traffic did flow before and after the restart
    assert any(response.attempts() > 1 for response in tally.safe), summary  # it hit calls
    codes = {response.status_code() for response in tally.unsafe}
    assert codes <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, summary


def test_sync_idempotent_calls_ride_through_a_restart(user_process: UserServerProcess) -> None:
    tally = Tally()
    with GrpcClient(f"127.0.0.1:{user_process.port}") as client:
        assert client.call(GetUser()).is_success()
        started = time.monotonic()
        restarter = restart_midway(user_process)
        callers = [
            threading.Thread(target=call_sync, args=(client, tally, started + CALLING_FOR))
            for _ in range(CONCURRENT)
        ]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(30)
        restarter.join(10)
        took = time.monotonic() - started
    check(tally, "sync", took)


def test_async_idempotent_calls_ride_through_a_restart(user_process: UserServerProcess) -> None:
    tally = Tally()

    async def main() -> float:
        async with GrpcClient(f"127.0.0.1:{user_process.port}") as client:
            assert (await client.call_async(GetUser())).is_success()
            started = time.monotonic()
            restarter = restart_midway(user_process)
            until = started + CALLING_FOR
            await asyncio.gather(*(call_async(client, tally, until) for _ in range(CONCURRENT)))
            await asyncio.to_thread(restarter.join, 10)
            return time.monotonic() - started

    took = asyncio.run(main())
    check(tally, "async", took)


def test_without_a_deadline_retries_do_not_wait_for_a_dead_server() -> None:
    """A retry waits for a connection only as long as a deadline allows: none, no wait."""
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
    with GrpcClient(
        f"127.0.0.1:{unused_port()}", timeout=None, retry=policy, retry_throttle=None
    ) as client:
        started = time.monotonic()
        response = client.call(GetUser())
        took = time.monotonic() - started

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.attempts() == 3
    assert took < 5  # fails fast (milliseconds); a wait would last forever


def test_a_client_that_refuses_wait_for_ready_keeps_its_retries_failing_fast() -> None:
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
    with GrpcClient(
        f"127.0.0.1:{unused_port()}", wait_for_ready=False, retry=policy, retry_throttle=None
    ) as client:
        started = time.monotonic()
        response = client.call(GetUser(timeout=20))
        took = time.monotonic() - started

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.attempts() == 3
    assert took < 5  # milliseconds; a waiting retry would take the whole 20 s


def test_with_a_deadline_a_retry_waits_for_the_server_to_come_back(
    user_process: UserServerProcess,
) -> None:
    """The first attempt fails fast on a dead server, the retry waits for the restart."""
    port = user_process.port
    user_process.kill()
    policy = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02)
    with GrpcClient(f"127.0.0.1:{port}", retry=policy, retry_throttle=None) as client:
        later = threading.Timer(1.0, user_process.start)
        later.start()
        try:
            response = client.call(GetUser(timeout=20))
        finally:
            later.join()

    assert response.is_success(), response
    assert response.attempts() == 2
