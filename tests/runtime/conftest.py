"""Run each runtime behaviour through ``call()`` and ``call_async()`` alike."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from protoreq import GrpcClient, GrpcResponse

Send = Callable[[GrpcClient, Any], GrpcResponse[Any]]


@pytest.fixture(params=["sync", "async"])
def send(request: pytest.FixtureRequest) -> Iterator[Send]:
    """``send(client, request)`` through ``call`` or through ``call_async``.

    The async variant runs every send on one event loop in a background thread,
    so a test's calls share that loop's channel as an application's would.
    """
    if request.param == "sync":
        yield lambda client, grpc_request: client.call(grpc_request)
        return
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def send_async(client: GrpcClient, grpc_request: Any) -> GrpcResponse[Any]:
        return asyncio.run_coroutine_threadsafe(client.call_async(grpc_request), loop).result(30)

    try:
        yield send_async
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
