"""mypy-protobuf's typed stubs, generated beside protoreq's own output instead of before it.

``protoc --mypy_out`` runs ``protoc-gen-mypy`` and waits for it, and on a large
tree it is the slowest step of ``protoreq generate`` by far (seconds, against
well under a second for protoc itself and for protoreq's plugin). protoc only
pipes a ``CodeGeneratorRequest`` into the plugin and writes the files of the
``CodeGeneratorResponse`` it answers with, so :class:`MypyStubs` does exactly
that itself, with the request protoreq already has: the plugin runs in its own
process, on another core, while protoreq's generator runs in this one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

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


class MypyStubs:
    """``protoc-gen-mypy`` running on ``request`` in the background; :meth:`result` waits for it."""

    def __init__(self, request: plugin_pb2.CodeGeneratorRequest) -> None:
        given = request.parameter
        request.parameter = MYPY_PARAMETER
        try:
            data = request.SerializeToString()
        finally:
            request.parameter = given
        self._process = subprocess.Popen(
            [str(mypy_plugin())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._output = b""
        self._errors = b""
        # communicate() feeds stdin while it drains stdout: a thread, so this one can work.
        self._thread = threading.Thread(
            target=self._communicate, args=(data,), name="protoc-gen-mypy", daemon=True
        )
        self._thread.start()

    def _communicate(self, data: bytes) -> None:
        self._output, self._errors = self._process.communicate(data)

    def result(self) -> plugin_pb2.CodeGeneratorResponse:
        """The plugin's response; :class:`StubsError` if it failed or reported an error."""
        self._thread.join()
        if self._process.returncode != 0:
            detail = self._errors.decode("utf-8", "replace").strip().splitlines()
            raise StubsError(
                f"--mypy_out: {MYPY_PLUGIN}: Plugin failed with status code "
                f"{self._process.returncode}{': ' + detail[-1] if detail else ''}"
            )
        try:
            response = plugin_pb2.CodeGeneratorResponse.FromString(self._output)
        except DecodeError as error:
            raise StubsError(f"--mypy_out: {MYPY_PLUGIN} answered garbage: {error}") from None
        if response.error:
            raise StubsError(f"--mypy_out: {response.error}")
        return response

    def cancel(self) -> None:
        """Stop the plugin (after a failure of our own) and reap it."""
        if self._process.poll() is None:
            self._process.kill()
        self._thread.join()
