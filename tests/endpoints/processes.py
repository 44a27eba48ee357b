"""A ``user.UserService`` server in a process of its own, for endpoints that must really die."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.protos import REPO_ROOT


class ServerProcess:
    """``tests.resilience.user_server`` on an ephemeral port; ``kill()`` SIGKILLs it."""

    def __init__(self, compiled_protos: Path) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(compiled_protos)])}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.resilience.user_server", "0"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        printed = self.process.stdout.readline().strip()
        if not printed.isdigit():
            self.kill()
            raise RuntimeError(f"user server process did not start (printed {printed!r})")
        self.port = int(printed)
        self.address = f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
