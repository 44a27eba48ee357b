"""Generator rows: ``protoreq generate`` vs protoc's own plugins, and the plugin alone.

Both commands run as the processes a build runs, on the same tree
(:mod:`bench.tree`), each into a fresh folder:

* ``protoreq generate -I TREE FILES -o OUT`` — protoc's ``_pb2.py``,
  mypy-protobuf's ``.pyi`` and our ``_protoreq.py``;
* ``python -m grpc_tools.protoc --python_out --grpc_python_out --mypy_out`` —
  what a plain grpcio project runs for the same files.

"Plugin alone" is :func:`protoreq_generator.plugin.generate` in process on the
tree's ``CodeGeneratorRequest``: descriptors -> model -> rendered files,
without protoc's parsing or any I/O.
"""

from __future__ import annotations

import gc
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from bench.budget import Budget
from bench.stats import Row, absolute_row, paired_row
from bench.tree import write_tree

PLUGIN_LIMIT_SECONDS = 0.5
_COMMAND_TIMEOUT = 120.0


def _script(name: str) -> str:
    """A console script of this environment (``protoreq``, ``protoc-gen-mypy``)."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        if (folder / name).is_file():
            return str(folder / name)
    raise FileNotFoundError(f"console script {name} is not installed; pip install -e '.[dev]'")


def _timed_run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=_COMMAND_TIMEOUT)
    return time.perf_counter() - started


def _plugin_seconds(tree: Path, sources: list[Path]) -> float:
    from protoreq_generator.plugin import generate  # noqa: PLC0415
    from protoreq_generator.protoc import Invocation, descriptor_request  # noqa: PLC0415

    request = descriptor_request(Invocation(includes=(tree,), sources=tuple(sources)))
    gc.collect()  # start from a clean heap, as a fresh plugin process does
    started = time.perf_counter()
    response = generate(request)
    seconds = time.perf_counter() - started
    if response.error or len(response.file) != len(sources):
        raise RuntimeError(f"the plugin failed on the tree: {response.error or 'files missing'}")
    return seconds


def generator(budget: Budget) -> list[Row]:
    """Rows for the whole-build comparison and for the plugin alone."""
    scratch = Path(tempfile.mkdtemp(prefix="protoreq-tree-"))
    try:
        return _generator(scratch, budget)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _generator(scratch: Path, budget: Budget) -> list[Row]:
    tree = scratch / "tree"
    sources = write_tree(tree, files=budget.tree_files)
    names = [str(path) for path in sources]
    rpcs = budget.tree_files * 50
    commands = {
        "protoreq": lambda out: [_script("protoreq"), "generate", "-I", str(tree), *names,
                                 "-o", str(out)],
        "protoc": lambda out: [sys.executable, "-m", "grpc_tools.protoc", f"-I{tree}",
                               f"--python_out={out}", f"--grpc_python_out={out}",
                               f"--plugin=protoc-gen-mypy={_script('protoc-gen-mypy')}",
                               f"--mypy_out={out}", *names],
    }  # fmt: skip
    seconds: dict[str, list[float]] = {"protoreq": [], "protoc": []}
    plugin: list[float] = []
    for repetition in range(budget.generator_repetitions):
        order = ["protoreq", "protoc"] if repetition % 2 == 0 else ["protoc", "protoreq"]
        for name in order:
            out = scratch / f"out-{name}-{repetition}"
            out.mkdir()
            seconds[name].append(_timed_run(commands[name](out)))
            shutil.rmtree(out)
        plugin.append(_plugin_seconds(tree, sources))
    return [
        paired_row(
            f"protoreq generate vs protoc --python_out --grpc_python_out --mypy_out "
            f"({budget.tree_files} files, {rpcs:,} RPCs)",
            "s",
            seconds["protoreq"],
            seconds["protoc"],
            "≤ 1.0",
        ),
        absolute_row(
            f"plugin alone, in process, {rpcs:,} RPCs (baseline: the 0.5 s limit)",
            "s",
            plugin,
            PLUGIN_LIMIT_SECONDS,
            "< 1.0",
        ),
    ]
