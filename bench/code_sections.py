"""Generator and import-time rows: protoreq's plugin and modules vs protoc's and grpc's."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.stats import Row, median
from bench.workload import REPO_ROOT

_IMPORT_PROBE = """
import importlib, sys, time
for name in sys.argv[2].split(","):
    importlib.import_module(name)
started = time.perf_counter()
importlib.import_module(sys.argv[1])
print(time.perf_counter() - started)
"""


def _clean_env() -> dict[str, str]:
    """Bytecode caching on, whatever the calling environment says."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return env


def _import_seconds(module: str, preloaded: list[str], env: dict[str, str]) -> float:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, module, ",".join(preloaded)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return float(result.stdout.strip())


def import_time(protos_dir: Path, repetitions: int) -> list[Row]:
    """Import of ``user_protoreq`` vs its ``user_pb2_grpc`` twin, shared dependencies preloaded.

    Both modules' dependencies (grpc, protobuf, the ``_pb2`` module, and the
    runtime for ours) are imported first, so the row compares the generated
    modules themselves; ``.pyc`` files are written beforehand and used.
    """
    from grpc_tools import protoc  # noqa: PLC0415

    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        [
            "protoc",
            f"-I{REPO_ROOT}",
            f"-I{include}",
            f"--grpc_python_out={protos_dir}",
            "protos/user.proto",
        ]
    )
    if code != 0:
        raise RuntimeError("protoc --grpc_python_out failed")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(protos_dir)], check=True)
    env = _clean_env()
    shared = ["grpc", "google.protobuf", "protos.user_pb2"]
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(repetitions):
        ours.append(_import_seconds("protos.user_protoreq", [*shared, "protoreq"], env))
        theirs.append(_import_seconds("protos.user_pb2_grpc", shared, env))
    return [
        Row(
            "import user_protoreq vs user_pb2_grpc (deps preloaded, .pyc)",
            "ms",
            median(ours) * 1000,
            median(theirs) * 1000,
        )
    ]


def generator(quick: bool, repetitions: int) -> list[Row]:
    """``protoreq generate`` vs protoc + grpc + mypy plugins on one tree; the plugin alone."""
    from tests.generator.make_big_tree import write_tree  # noqa: PLC0415

    files = 5 if quick else 100
    tree = Path(tempfile.mkdtemp(prefix="protoreq-tree-"))
    sources = write_tree(tree, files=files)
    mypy_plugin = Path(sys.executable).with_name("protoc-gen-mypy")
    ours: list[float] = []
    theirs: list[float] = []
    plugin_only: list[float] = []
    for _ in range(max(1, min(repetitions, 5))):
        out_ours = Path(tempfile.mkdtemp())
        out_theirs = Path(tempfile.mkdtemp())
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "protoreq_generator.cli", "generate", "-I", str(tree),
             *map(str, sources), "-o", str(out_ours)],
            check=True, capture_output=True,
        )  # fmt: skip
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "grpc_tools.protoc", f"-I{tree}",
             f"--python_out={out_theirs}", f"--grpc_python_out={out_theirs}",
             f"--plugin=protoc-gen-mypy={mypy_plugin}", f"--mypy_out={out_theirs}",
             *map(str, sources)],
            check=True, capture_output=True,
        )  # fmt: skip
        theirs.append(time.perf_counter() - started)
        plugin_only.append(_plugin_alone_seconds(tree, sources))
    rpcs = files * 50
    return [
        Row(
            f"protoreq generate vs protoc+grpc+mypy ({files} files, {rpcs} RPCs)",
            "s",
            median(ours),
            median(theirs),
            "≤ 1.0",
        ),
        Row(f"plugin alone, {rpcs} RPCs (baseline: 0.5 s target)", "s", median(plugin_only), 0.5,
            "< 0.5 s"),
    ]  # fmt: skip


def _plugin_alone_seconds(tree: Path, sources: list[Path]) -> float:
    """Time our plugin on a captured CodeGeneratorRequest, excluding protoc's parsing."""
    from protoreq_generator.plugin import generate_response  # noqa: PLC0415
    from tests.generator.make_big_tree import code_generator_request  # noqa: PLC0415

    request = code_generator_request(tree, sources)
    started = time.perf_counter()
    generate_response(request)
    return time.perf_counter() - started
