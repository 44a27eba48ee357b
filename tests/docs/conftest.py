"""Session fixtures: each kind of documentation block runs once, and tests read the results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.markdown import REPO_ROOT, Block, all_blocks

BIN = Path(sys.executable).parent


def environment(**extra: str) -> dict[str, str]:
    """The test process's environment with this interpreter's ``bin/`` first on ``PATH``."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(extra)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="session")
def python_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Every Python block's stdout and error, keyed by ``file:line``."""
    results = tmp_path_factory.mktemp("docs-python") / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "tests.docs.runner", str(results)],
        cwd=REPO_ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return {item["where"]: item for item in json.loads(results.read_text())}


@pytest.fixture(scope="session")
def bash_results(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every bash block run in order, per document, in one scratch folder holding ``protos/``."""
    outcomes: dict[str, subprocess.CompletedProcess[str]] = {}
    scratch_by_document: dict[Path, Path] = {}
    for block in all_blocks():
        if block.language != "bash" or block.directive is not None:
            continue
        scratch = scratch_by_document.get(block.path)
        if scratch is None:
            scratch = tmp_path_factory.mktemp("docs-bash")
            shutil.copytree(REPO_ROOT / "protos", scratch / "protos")
            scratch_by_document[block.path] = scratch
        outcomes[block.where] = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.text],
            cwd=scratch,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    return outcomes


def blocks_where(predicate: str) -> list[Block]:
    """Blocks for parametrization: ``python``, ``bash``, ``excerpt``, ``pytest`` or ``output``."""
    every = all_blocks()
    if predicate == "python":
        return [b for b in every if b.language == "python" and b.directive is None]
    if predicate == "bash":
        return [b for b in every if b.language == "bash" and b.directive is None]
    return [b for b in every if b.directive == predicate]
