"""CLI tests: real servers on 127.0.0.1, the CLI run through click's CliRunner or a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from protoreq_generator.cli import cli
from tests.cli.servers import RunningServer, cli_server
from tests.support.protos import REPO_ROOT


@dataclass
class Ran:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*arguments: str, input: str | None = None) -> Ran:
    """The CLI in this process (click's CliRunner): stdout and stderr apart."""
    result = CliRunner().invoke(cli, list(arguments), input=input, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_protoreq(*arguments: str, input: str | None = None, timeout: float = 60) -> Ran:
    """The CLI in a process of its own, as a user runs it (``python -m protoreq_generator``)."""
    completed = subprocess.run(
        [sys.executable, "-m", "protoreq_generator", *arguments],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    return Ran(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with cli_server() as running:
        yield running


@pytest.fixture(scope="module")
def target(server: RunningServer) -> str:
    return server.target
