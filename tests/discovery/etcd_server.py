"""A real etcd in a child process on loopback, for the etcd registry's tests.

Debian's ``etcd-server`` provides ``etcd`` (scripts/system-packages installs it where it
can). Without it the tests skip, except under ``CI=true``, where they fail: CI must run them.
Short heartbeat and election intervals make it elect itself at once and let leases as short
as one second exist (etcd's minimum TTL is 1.5 election timeouts).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from protoreq import GrpcClient
from protoreq._etcd.rpc_protoreq import RangeGrpcRequest
from tests.support.servers import unused_port

IN_CI = os.environ.get("CI") == "true"


def require_etcd() -> str:
    """The ``etcd`` command; skips (fails in CI) when it is not installed."""
    found = shutil.which("etcd")
    if found is None:
        message = "etcd is not installed (Debian: apt-get install etcd-server)"
        if IN_CI:
            pytest.fail(f"{message}; scripts/system-packages should have installed it")
        pytest.skip(message)
    return found


class EtcdServer:
    """One etcd member; ``kill()`` and ``start()`` again keep its data dir and ports."""

    def __init__(self, command: str, data_dir: Path) -> None:
        self._command = command
        self._data_dir = data_dir
        self._log = data_dir.parent / f"{data_dir.name}.log"
        self.client_port = unused_port()
        self.peer_port = unused_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    def start(self, *, ready_within: float = 20.0) -> None:
        client_url = f"http://127.0.0.1:{self.client_port}"
        peer_url = f"http://127.0.0.1:{self.peer_port}"
        arguments = [
            self._command,
            "--name=protoreq-test",
            f"--data-dir={self._data_dir}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=protoreq-test={peer_url}",
            "--initial-cluster-state=new",
            "--heartbeat-interval=50",
            "--election-timeout=500",
        ]
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_answering(ready_within)

    def _wait_until_answering(self, within: float) -> None:
        deadline = time.monotonic() + within
        with GrpcClient(self.endpoint, timeout=1.0, retry=None) as client:
            while time.monotonic() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    break
                if client.call(RangeGrpcRequest(key=b"ping")).is_success():
                    return
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"etcd did not answer within {within} s:\n{self._log.read_text()}")

    def kill(self) -> None:
        """SIGKILL, as a crash would; waits until it is gone."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)
        self._process = None
