"""The package's public surface and what importing it costs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import protoreq


def test_import_loads_neither_jinja_nor_click_nor_generator() -> None:
    code = (
        "import sys, protoreq\n"
        "bad = [m for m in ('jinja2', 'click', 'protoreq_generator', 'mypy_protobuf') "
        "if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_all_lists_every_public_name_once() -> None:
    public = {
        name
        for name, value in vars(protoreq).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("protoreq")
        and not isinstance(value, type(protoreq))
    }
    assert len(protoreq.__all__) == len(set(protoreq.__all__))
    assert public <= set(protoreq.__all__)
    for name in protoreq.__all__:
        assert hasattr(protoreq, name), name


def test_py_typed_marker_ships() -> None:
    from importlib.resources import files  # noqa: PLC0415

    assert files("protoreq").joinpath("py.typed").is_file()


def test_add_sensitive_metadata_keys_is_exported() -> None:
    assert "add_sensitive_metadata_keys" in protoreq.__all__
    assert protoreq.add_sensitive_metadata_keys.__module__ == "protoreq.redaction"


_CLIENT_SIDE = (
    "protoreq.client",
    "protoreq.channel",
    "protoreq.credentials",
    "protoreq.discovery",
    "protoreq.interceptors",
    "protoreq.operations",
    "protoreq.pagination",
    "protoreq.preparation",
    "protoreq.retry",
    "protoreq.retrying",
    "protoreq.streaming",
    "protoreq.transport",
    "google.protobuf.json_format",
    "json",
    "random",
)
"""What only a client, a conversion or a trace id needs: loaded on first use, not on import."""


def _modules_after(imports: str, protos_dir: Path) -> set[str]:
    code = f"import sys\n{imports}\nprint(' '.join(sys.modules))\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(protos_dir), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return set(result.stdout.split())


def test_generated_code_imports_no_client_machinery(compiled_protos: Path) -> None:
    """A program that only declares or builds requests (a CLI's ``--help``, a types module)
    pays for the request bases, not for channels, interceptors, streams or retries."""
    grpcio_side = _modules_after(
        "import grpc, google.protobuf\nfrom protos import user_pb2", compiled_protos
    )
    ours = _modules_after(
        "import grpc, google.protobuf, protoreq\n"
        "from protos import user_protoreq\n"
        "user_protoreq.GetUserGrpcRequest(user_id='u1').message()\n",
        compiled_protos,
    )
    assert "protos.user_protoreq" in ours
    assert sorted(set(_CLIENT_SIDE) & (ours - grpcio_side)) == []


def test_names_load_on_first_use_and_stay() -> None:
    code = (
        "import sys, protoreq\n"
        "before = 'protoreq.client' in sys.modules\n"
        "client_class = protoreq.GrpcClient\n"
        "from protoreq.client import GrpcClient\n"
        "print(before, client_class is GrpcClient, 'GrpcClient' in vars(protoreq))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True", "True"]


def test_every_exported_name_and_submodule_resolves() -> None:
    assert set(protoreq.__all__) <= set(dir(protoreq))
    for name in protoreq.__all__:
        value = getattr(protoreq, name)
        if isinstance(value, type) or callable(value):
            assert str(getattr(value, "__module__", "")).startswith("protoreq"), name
    assert protoreq.errors.ProtoreqError is protoreq.ProtoreqError
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        protoreq.NoSuchName  # type: ignore[attr-defined]  # noqa: B018
