"""mypy-protobuf's typed stubs, generated beside protoreq's own output instead of before it.

``protoc --mypy_out`` runs ``protoc-gen-mypy`` and waits for it, and on a large
tree it is the slowest step of ``protoreq generate`` by far (seconds, against
well under a second for protoc itself and for protoreq's plugin). protoc only
pipes a ``CodeGeneratorRequest`` into the plugin and writes the files of the
``CodeGeneratorResponse`` it answers with, so :class:`MypyStubs` does exactly
that itself (:func:`mypy_stubs`), with the request protoreq already has: the
plugin runs in its own process, on another core, while protoreq's generator
runs in this one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from google.protobuf.compiler import plugin_pb2
from google.protobuf.message import DecodeError

MYPY_PLUGIN = "protoc-gen-mypy"
MYPY_PARAMETER = "quiet"
"""What ``--mypy_opt=quiet`` would pass: no "Writing mypy to ..." lines on stderr."""


class StubsError(Exception):
    """The stub plugin failed; the message says how, as protoc would have."""


def mypy_plugin() -> Path:
    """The ``protoc-gen-mypy`` of this interpreter's environment, else the first on PATH."""
    scripts = Path(sysconfig.get_path("scripts"))
    for folder in (scripts, Path(sys.executable).parent):
        for name in (MYPY_PLUGIN, MYPY_PLUGIN + ".exe"):
            candidate = folder / name
            if candidate.is_file():
                return candidate
    found = shutil.which(MYPY_PLUGIN)
    if found is None:
        raise StubsError(
            f"{MYPY_PLUGIN} (mypy-protobuf) not found; "
            "install it with: pip install 'protoreq[generator]'"
        )
    return Path(found)


@contextmanager
def mypy_stubs(
    request: plugin_pb2.CodeGeneratorRequest,
) -> Iterator[Callable[[], plugin_pb2.CodeGeneratorResponse]]:
    """Start ``protoc-gen-mypy`` on ``request``; yield a function that waits for its response.

    The plugin's stdin and stdout are temporary files, not pipes: a pipe would need
    a thread of ours to feed and drain it, and that thread would wait for the GIL
    while the generator holds it, keeping the plugin waiting too. Leaving the block
    early (our own generator failed) stops the plugin.
    """
    given = request.parameter
    request.parameter = MYPY_PARAMETER
    try:
        data = request.SerializeToString()
    finally:
        request.parameter = given
    with (
        tempfile.TemporaryFile() as stdin,
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
    ):
        stdin.write(data)
        stdin.seek(0)
        process = subprocess.Popen([str(mypy_plugin())], stdin=stdin, stdout=stdout, stderr=stderr)
        try:
            yield lambda: _response(process.wait(), stdout, stderr)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()


def _response(code: int, stdout: IO[bytes], stderr: IO[bytes]) -> plugin_pb2.CodeGeneratorResponse:
    """The plugin's response; :class:`StubsError` if it failed or reported an error."""
    if code != 0:
        stderr.seek(0)
        detail = stderr.read().decode("utf-8", "replace").strip().splitlines()
        raise StubsError(
            f"--mypy_out: {MYPY_PLUGIN}: Plugin failed with status code "
            f"{code}{': ' + detail[-1] if detail else ''}"
        )
    stdout.seek(0)
    try:
        response = plugin_pb2.CodeGeneratorResponse.FromString(stdout.read())
    except DecodeError as error:
        raise StubsError(f"--mypy_out: {MYPY_PLUGIN} answered garbage: {error}") from None
    if response.error:
        raise StubsError(f"--mypy_out: {response.error}")
    return response
