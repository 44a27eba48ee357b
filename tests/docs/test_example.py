"""``python -m examples`` works from a copy of the repository and prints what the README says."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.conftest import environment
from tests.docs.markdown import REPO_ROOT, blocks

pytestmark = pytest.mark.timeout(120)

COMMAND = "python -m examples"


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """The example run in a scratch copy, so its regeneration never writes into the work tree."""
    scratch = tmp_path_factory.mktemp("example")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_ROOT / "examples", scratch / "examples", ignore=ignore)
    shutil.copytree(REPO_ROOT / "protos", scratch / "protos", ignore=ignore)
    return subprocess.run(
        [sys.executable, "-m", "examples"],
        cwd=scratch,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_example_exits_cleanly(example_run: subprocess.CompletedProcess[str]) -> None:
    assert example_run.returncode == 0, f"{example_run.stdout}\n{example_run.stderr}"


def test_example_prints_what_the_readme_shows(
    example_run: subprocess.CompletedProcess[str],
) -> None:
    shown = [
        block
        for block in blocks(REPO_ROOT / "README.md")
        if block.directive == "output" and block.argument == COMMAND
    ]
    assert len(shown) == 1, f"README.md needs one <!-- output: {COMMAND} --> block"
    assert example_run.stdout == shown[0].text


def test_example_logs_json_lines_with_trace_ids_and_no_secrets(
    example_run: subprocess.CompletedProcess[str],
) -> None:
    records = [json.loads(line) for line in example_run.stderr.splitlines()]
    calls = [record for record in records if record["logger"] == "protoreq"]
    served = [record for record in records if record["logger"] == "examples.user_server"]
    assert [call["trace_id"] for call in calls] == [
        "trace-1",
        "trace-2",
        "trace-3",
        "trace-3",
        "trace-4",
        "trace-5",
        "trace-6",
        "trace-6",
        "trace-6",
    ]
    assert sorted(r["trace_id"] for r in served) == sorted(c["trace_id"] for c in calls)
    retried = [call for call in calls if call["rpc_attempt"] == 2]
    assert len(retried) == 2  # GET u-1 and the batch's u-2: pushed back once each
    assert all(call["rpc_metadata"]["authorization"] == "[REDACTED]" for call in calls)
    assert "dev-token-not-secret" not in example_run.stderr


def test_committed_generated_code_is_what_the_example_regenerates(
    example_run: subprocess.CompletedProcess[str],
) -> None:
    first_lines = example_run.stdout.splitlines()[:2]
    assert first_lines[1].startswith("protoreq: 0 written"), first_lines
    assert Path(REPO_ROOT / "examples" / "generated" / "protos" / "user_protoreq.py").is_file()
