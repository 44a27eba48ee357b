"""mypy-protobuf's typed stubs, generated beside protoreq's own output instead of before it.

``protoc --mypy_out`` runs ``protoc-gen-mypy`` and waits for it, and on a large
tree it is the slowest step of ``protoreq generate`` by far (seconds, against
well under a second for protoc itself and for protoreq's plugin). protoc only
pipes a ``CodeGeneratorRequest`` into the plugin and writes the files of the
``CodeGeneratorResponse`` it answers with, so :class:`MypyStubs` does exactly
that itself (:func:`mypy_stubs`), with the request protoreq already has: the
plugin starts before protoc parses and runs in its own process, on another
core, while protoreq's generator runs in this one.

mypy-protobuf is the default (:data:`STUB_KINDS`), but it is a third party's
plugin and can crash on valid input (googleapis' compute protos define a
``FieldOptions`` extension with mypy-protobuf's own number, 1151): then
:func:`failing_file` names the file and the error suggests ``--stubs=pyi``,
protoc's built-in ``--pyi_out``, which :mod:`protoreq_generator.protoc` runs
in process.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final, Literal, get_args

from google.protobuf.compiler import plugin_pb2
from google.protobuf.message import DecodeError

StubKind = Literal["mypy", "pyi", "none"]
STUB_KINDS: Final[tuple[StubKind, ...]] = get_args(StubKind)
STUB_HELP: Final = {
    "mypy": "mypy-protobuf's stubs (the default)",
    "pyi": "protoc's built-in --pyi_out stubs",
    "none": "no .pyi files",
}

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


class StubsProcess:
    """A running ``protoc-gen-mypy``: :meth:`send` the request, then wait for :meth:`response`."""

    def __init__(
        self, process: subprocess.Popen[bytes], stdout: IO[bytes], stderr: IO[bytes]
    ) -> None:
        self._process = process
        self._stdout = stdout
        self._stderr = stderr

    def send(self, request: plugin_pb2.CodeGeneratorRequest) -> None:
        """Hand over ``request`` (as ``--mypy_opt=quiet`` would); the plugin starts working."""
        data = _plugin_request(request)
        stdin = self._process.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it died early: response() tells why
            stdin.write(data)
            stdin.close()

    def response(self) -> plugin_pb2.CodeGeneratorResponse:
        """Wait for the plugin; its response, or :class:`StubsError` if it failed."""
        return _response(self._process.wait(), self._stdout, self._stderr)


def _plugin_request(request: plugin_pb2.CodeGeneratorRequest) -> bytes:
    """``request`` as ``--mypy_opt=quiet`` would pass it (the caller's copy is left as it was)."""
    given = request.parameter
    request.parameter = MYPY_PARAMETER
    try:
        return request.SerializeToString()
    finally:
        request.parameter = given


def _fails_on(request: plugin_pb2.CodeGeneratorRequest, names: list[str]) -> bool:
    subset = plugin_pb2.CodeGeneratorRequest()
    subset.CopyFrom(request)
    subset.file_to_generate[:] = names
    result = subprocess.run(
        [str(mypy_plugin())], input=_plugin_request(subset), capture_output=True, check=False
    )
    if result.returncode != 0:
        return True
    try:
        return bool(plugin_pb2.CodeGeneratorResponse.FromString(result.stdout).error)
    except DecodeError:
        return True


def failing_file(request: plugin_pb2.CodeGeneratorRequest) -> str | None:
    """The first file of ``request`` the stub plugin fails on, found by bisection.

    Only run after a failure: the plugin's own message (often an assertion deep
    inside it) rarely says which of hundreds of files it was working on, and
    about log2(n) reruns on halves of the list find one. ``None`` if no single
    file fails alone.
    """
    candidates = list(request.file_to_generate)
    while len(candidates) > 1:
        half = len(candidates) // 2
        first = candidates[:half]
        candidates = first if _fails_on(request, first) else candidates[half:]
    if candidates and _fails_on(request, candidates):
        return candidates[0]
    return None


@contextmanager
def mypy_stubs() -> Iterator[StubsProcess]:
    """Start ``protoc-gen-mypy`` now (its interpreter starts while protoc parses); stop it on exit.

    The request goes to its stdin in one write (the plugin reads it all at once);
    its stdout and stderr are temporary files rather than pipes, so nothing of
    ours has to drain them while the generator runs in this process. Leaving the
    block before :meth:`StubsProcess.response` (protoc or our generator failed)
    kills the plugin.
    """
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [str(mypy_plugin())], stdin=subprocess.PIPE, stdout=stdout, stderr=stderr
        )
        try:
            yield StubsProcess(process, stdout, stderr)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdin is not None:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.close()


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
