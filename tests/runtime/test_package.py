"""The package's public surface and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

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
