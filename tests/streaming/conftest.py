"""Streaming tests: a real ChatService, generated request classes, and a sync/async driver.

Every behaviour is checked through ``stream()`` and ``stream_async()`` (and
``call()`` / ``call_async()`` for client-streaming) alike: the ``drive``
fixture runs a test's stream the sync way or the async way (``async for`` on
one event loop in a background thread) and hands back the messages and the
finished stream, whose status methods are the same in both modes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest
from google.protobuf.message import Message

from protoreq import (
    AsyncGrpcStream,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcClient,
    GrpcRequest,
    GrpcResponse,
    GrpcStream,
    ServerStreamingGrpcRequest,
)
from tests.support.protos import REPO_ROOT

T = TypeVar("T")
M = TypeVar("M", bound=Message)
AnyStream = GrpcStream[Any] | AsyncGrpcStream[Any]
OnMessage = Callable[[AnyStream, Any], None]


@pytest.fixture
def progress() -> Any:
    from tests.streaming.chat_service import ChatProgress  # noqa: PLC0415  # needs protos

    return ChatProgress()


@pytest.fixture
def chat_target(progress: Any) -> Iterator[str]:
    """A real ChatService on 127.0.0.1 (ephemeral port); yields ``host:port``."""
    from tests.streaming.chat_service import ChatService  # noqa: PLC0415  # needs protos
    from tests.support.servers import serve  # noqa: PLC0415

    with serve(ChatService(progress).handler()) as address:
        yield address


class ChatProcess:
    """``tests.streaming.chat_server`` in a process of its own: a server that can be SIGKILLed.

    Also the fastest server for long streams: on two cores, client and server
    in separate processes do not take turns on one GIL.
    """

    def __init__(self, compiled_protos: Path) -> None:
        path = os.pathsep.join([str(REPO_ROOT), str(compiled_protos)])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.streaming.chat_server"],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": path},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()  # the server prints it once it listens
        if not port.isdigit():
            self.kill()
            raise RuntimeError(f"chat server process did not start (printed {port!r})")
        self.target = f"127.0.0.1:{port}"

    def kill(self) -> None:
        """SIGKILL: no goodbye to the client, exactly like a crashed or OOM-killed server."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def chat_process(compiled_protos: Path) -> Iterator[ChatProcess]:
    """A fresh server process per test (it starts in a fraction of a second)."""
    process = ChatProcess(compiled_protos)
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture(scope="module")
def fast_chat_target(compiled_protos: Path) -> Iterator[str]:
    """One server process for a module's tests, for the 10,000-message streams."""
    process = ChatProcess(compiled_protos)
    try:
        yield process.target
    finally:
        process.kill()


@dataclass
class Finished(Generic[T]):
    """What a driven stream produced: the messages the consumer kept, and the ended stream."""

    messages: list[T]
    stream: AnyStream


class Driver:
    """Runs streams and calls the sync way or the async way; tests read the outcome the same way."""

    def __init__(self, mode: str, loop: asyncio.AbstractEventLoop | None) -> None:
        self.mode = mode
        self._loop = loop

    @property
    def is_async(self) -> bool:
        return self._loop is not None

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run ``coroutine`` on the driver's event loop (async mode only)."""
        assert self._loop is not None, "run() is for the async driver"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stream(
        self,
        client: GrpcClient,
        request: ServerStreamingGrpcRequest[Any, M] | BidiStreamingGrpcRequest[Any, M],
        on_message: OnMessage | None = None,
    ) -> Finished[M]:
        """Iterate the stream to its end inside ``with`` / ``async with``, as users would."""
        kept: list[M] = []
        if self._loop is None:
            with client.stream(request) as stream:
                for message in stream:
                    kept.append(message)
                    if on_message is not None:
                        on_message(stream, message)
            return Finished(kept, stream)

        async def consume() -> AsyncGrpcStream[M]:
            async with client.stream_async(request) as stream:
                async for message in stream:
                    kept.append(message)
                    if on_message is not None:
                        on_message(stream, message)
            return stream

        return Finished(kept, self.run(consume()))

    def call(
        self,
        client: GrpcClient,
        request: GrpcRequest[Any, M] | ClientStreamingGrpcRequest[Any, M],
    ) -> GrpcResponse[M]:
        if self._loop is None:
            return client.call(request)
        return self.run(client.call_async(request))

    def messages(
        self,
        items: Iterable[M],
        *,
        delay: float = 0.0,
        after_each: Callable[[int], None] | None = None,
        produced: list[int] | None = None,
    ) -> Iterable[M]:
        """Outgoing messages in the mode's natural form: a generator, or an async generator.

        ``delay`` paces them; ``after_each(n)`` runs once the n-th was handed
        over; ``produced`` (a one-element list) counts how many were pulled.
        Async mode returns an async generator typed as the iterable the
        generated constructors also accept.
        """
        counter = produced if produced is not None else [0]
        if self._loop is None:
            return _paced(items, delay, after_each, counter)
        return _apaced(items, delay, after_each, counter)  # type: ignore[return-value]


def _paced(
    items: Iterable[M], delay: float, after_each: Callable[[int], None] | None, counter: list[int]
) -> Iterator[M]:
    for item in items:
        if delay:
            time.sleep(delay)
        counter[0] += 1
        yield item
        if after_each is not None:
            after_each(counter[0])


async def _apaced(
    items: Iterable[M], delay: float, after_each: Callable[[int], None] | None, counter: list[int]
) -> AsyncIterator[M]:
    for item in items:
        if delay:
            await asyncio.sleep(delay)
        counter[0] += 1
        yield item
        if after_each is not None:
            after_each(counter[0])


@pytest.fixture(params=["sync", "async"])
def drive(request: pytest.FixtureRequest) -> Iterator[Driver]:
    """A :class:`Driver` in each mode; the async one owns an event loop in a background thread."""
    if request.param == "sync":
        yield Driver("sync", None)
        return
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield Driver("async", loop)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def client(chat_target: str, drive: Driver) -> Iterator[GrpcClient]:
    """A client of the ChatService, closed before the driver's loop stops."""
    grpc_client = GrpcClient(chat_target, timeout=20)
    try:
        yield grpc_client
    finally:
        if drive.is_async:
            drive.run(grpc_client.aclose())
        else:
            grpc_client.close()
