"""Run the documentation's Python blocks, each as a complete program, and record the outcome.

``python -m tests.docs.runner RESULTS.json`` executes every Python block that
runs (see :mod:`tests.docs.markdown`) in a fresh namespace holding only
``target``, the address of :func:`~tests.docs.services.documentation_server`,
and writes one result per block. It is a separate process so that the
example's import path (``examples/generated`` first on ``sys.path``) and the
blocks' logging and event loops never touch the pytest process.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import tempfile
import traceback
from pathlib import Path

from grpc_tools import protoc

import examples  # noqa: F401  # puts examples/generated on sys.path, as PYTHONPATH=gen would
import protos
from tests.docs.markdown import REPO_ROOT, Block, all_blocks
from tests.docs.services import documentation_server


def _python_blocks() -> list[Block]:
    return [
        block for block in all_blocks() if block.language == "python" and block.directive is None
    ]


def _reset_logging() -> None:
    """Undo what a block configured, so the next block starts from Python's defaults."""
    for name in (None, "protoreq"):
        logger = logging.getLogger(name)
        for handler in logger.handlers[:]:
            if not isinstance(handler, logging.NullHandler):
                logger.removeHandler(handler)
        logger.setLevel(logging.WARNING if name is None else logging.NOTSET)


def run_block(block: Block, target: str) -> dict[str, object]:
    stdout = io.StringIO()
    namespace: dict[str, object] = {"__name__": "__main__", "target": target}
    error = None
    try:
        code = compile(block.text, block.where, "exec")
        with contextlib.redirect_stdout(stdout):
            exec(code, namespace)
    except BaseException:
        error = traceback.format_exc()
    finally:
        _reset_logging()
    return {"where": block.where, "stdout": stdout.getvalue(), "error": error}


def _add_grpc_stubs(scratch: Path) -> None:
    """grpcio's ``protos/*_pb2_grpc.py`` for the README's "before" block, beside the example's
    generated ``protos`` package (``protoreq generate`` writes no ``_pb2_grpc`` modules)."""
    sources = sorted(
        str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "protos").glob("*.proto")
    )
    code = protoc.main(["protoc", f"-I{REPO_ROOT}", f"--grpc_python_out={scratch}", *sources])
    if code != 0:
        raise RuntimeError(f"grpc_tools.protoc failed with exit code {code}")
    protos.__path__.append(str(scratch / "protos"))


def main(results_path: str) -> None:
    with tempfile.TemporaryDirectory(prefix="protoreq-docs-") as scratch:
        _add_grpc_stubs(Path(scratch))
        with documentation_server() as target:
            results = [run_block(block, target) for block in _python_blocks()]
    Path(results_path).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
