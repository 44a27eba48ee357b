"""Every code block in README.md and docs/ runs, is expected output, or says why it does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.conftest import blocks_where, environment
from tests.docs.markdown import DIRECTIVES, REPO_ROOT, Block, all_blocks

pytestmark = pytest.mark.timeout(120)

KNOWN_OUTPUTS = frozenset({"python -m examples"})
"""Commands a test runs itself and compares with ``<!-- output: COMMAND -->`` blocks."""


def _ids(blocks: list[Block]) -> list[str]:
    return [block.where for block in blocks]


def test_every_block_runs_or_is_marked() -> None:
    problems = []
    for block in all_blocks():
        if block.directive is None:
            if not block.runs:
                problems.append(
                    f"{block.where}: a {block.language or 'plain'} block is neither run nor "
                    "marked; add <!-- not-run: why --> (or output/excerpt) before it"
                )
        elif block.directive not in DIRECTIVES:
            problems.append(f"{block.where}: unknown directive {block.directive!r}")
        elif block.directive in ("not-run", "excerpt") and not block.argument:
            problems.append(f"{block.where}: <!-- {block.directive}: ... --> needs its argument")
        elif block.directive == "output" and block.argument not in KNOWN_OUTPUTS | {""}:
            problems.append(f"{block.where}: no test runs {block.argument!r}")
        elif block.directive == "pytest" and block.language != "python":
            problems.append(f"{block.where}: <!-- pytest --> marks python blocks only")
    assert not problems, "\n".join(problems)


def test_there_are_blocks_of_every_kind() -> None:
    """Guards the parser: a broken fence pattern would otherwise make every test vacuous."""
    for kind in ("python", "bash", "output", "excerpt", "pytest", "not-run"):
        assert blocks_where(kind), f"no {kind} block found in README.md or docs/"


@pytest.mark.parametrize("block", blocks_where("python"), ids=_ids(blocks_where("python")))
def test_python_block(block: Block, python_results: dict[str, dict[str, object]]) -> None:
    result = python_results[block.where]
    assert result["error"] is None, f"{block.where} failed:\n{result['error']}"


@pytest.mark.parametrize("block", blocks_where("bash"), ids=_ids(blocks_where("bash")))
def test_bash_block(
    block: Block, bash_results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = bash_results[block.where]
    assert result.returncode == 0, f"{block.where} failed:\n{result.stdout}\n{result.stderr}"


def _producer(output: Block) -> Block:
    """The block whose stdout an ``<!-- output -->`` block shows: the last block run before it."""
    every = all_blocks()
    for earlier in reversed(every[: every.index(output)]):
        if earlier.path != output.path:
            break
        if earlier.runs and earlier.directive is None:
            return earlier
    raise AssertionError(f"{output.where}: no block before this output block runs")


OUTPUTS = [block for block in blocks_where("output") if not block.argument]


@pytest.mark.parametrize("output", OUTPUTS, ids=_ids(OUTPUTS))
def test_output_block(
    output: Block,
    python_results: dict[str, dict[str, object]],
    bash_results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    producer = _producer(output)
    if producer.language == "python":
        actual = str(python_results[producer.where]["stdout"])
    else:
        actual = bash_results[producer.where].stdout
    assert actual == output.text, f"{producer.where} printed something else than {output.where}"


@pytest.mark.parametrize("block", blocks_where("excerpt"), ids=_ids(blocks_where("excerpt")))
def test_excerpt_block(block: Block) -> None:
    source = REPO_ROOT / block.argument
    assert source.is_file(), f"{block.where}: {block.argument} does not exist"
    wanted = [line.strip() for line in block.text.splitlines() if line.strip()]
    lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    windows = (lines[i : i + len(wanted)] for i in range(len(lines) - len(wanted) + 1))
    assert wanted in windows, f"{block.where} is no longer an excerpt of {block.argument}"


@pytest.mark.parametrize("block", blocks_where("pytest"), ids=_ids(blocks_where("pytest")))
def test_pytest_block(block: Block, tmp_path: Path) -> None:
    (tmp_path / "test_from_docs.py").write_text(block.text, encoding="utf-8")
    generated = REPO_ROOT / "examples" / "generated"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_from_docs.py"],
        cwd=tmp_path,
        env=environment(PYTHONPATH=str(generated)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{block.where} failed under pytest:\n{result.stdout}"
