"""A client used across many ``asyncio.run()`` loops keeps no channel of a finished loop.

grpc.aio channels belong to the loop that made them and refer to it, so a
client that kept them (keyed weakly by loop) kept the loops too, and their
connections: one file descriptor pair per loop, forever.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
import weakref

import grpc
import pytest

from protoreq import GrpcClient
from protoreq.transport.channels import ChannelPool
from protos import user_pb2
from tests.runtime.requests import GetUser

LOOPS = 50
FD_SLACK = 6  # the latest loop's connection (both ends) and a few grpcio internals


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def settled_fds(at_most: int, within: float = 3.0) -> int:
    """The fd count once the server side has seen closed connections go (or after ``within``)."""
    until = time.monotonic() + within
    while True:
        gc.collect()
        count = open_fds()
        if count <= at_most or time.monotonic() > until:
            return count
        time.sleep(0.05)


def loops_grpcio_keeps(target: str) -> int:
    """Finished loops alive after ``LOOPS`` runs that each open, use and close a raw channel.

    Some grpcio versions (1.85 among them) keep every loop their aio poller was
    bound to; whatever protoreq does, those stay. protoreq must keep none more.
    """
    loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    async def one_call() -> None:
        loops.add(asyncio.get_running_loop())
        async with grpc.aio.insecure_channel(target) as channel:
            get_user = channel.unary_unary(
                "/user.UserService/GetUser",
                request_serializer=user_pb2.GetUserRequest.SerializeToString,
                response_deserializer=user_pb2.User.FromString,
            )
            await get_user(user_pb2.GetUserRequest(user_id="1"), timeout=10)

    for _ in range(LOOPS):
        asyncio.run(one_call())
    gc.collect()
    return len(loops)


@pytest.mark.parametrize("share_channels", [False, True], ids=["own", "shared"])
def test_channels_of_finished_loops_are_released(target: str, share_channels: bool) -> None:
    """Before: 23 -> 123 descriptors over 50 loops (a connection, both ends, per loop)."""
    kept_by_grpcio = loops_grpcio_keeps(target)
    client = GrpcClient(target, share_channels=share_channels)
    loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    async def one_call() -> bool:
        loops.add(asyncio.get_running_loop())
        return (await client.call_async(GetUser("1"))).is_success()

    try:
        assert asyncio.run(one_call())  # first use: grpcio's own threads and descriptors
        before = settled_fds(at_most=10**6, within=0)
        assert all(asyncio.run(one_call()) for _ in range(LOOPS))
        after = settled_fds(at_most=before + FD_SLACK)
        gc.collect()
        alive = len(loops)
        assert isinstance(client._channels, ChannelPool)
        open_loops = len(client._channels._async_slots)
    finally:
        client.close()

    assert after <= before + FD_SLACK, f"{before} -> {after} descriptors over {LOOPS} loops"
    assert open_loops == 1  # the latest loop's channels, swept when the next loop comes
    # grpcio may keep finished loops itself (see loops_grpcio_keeps); protoreq keeps the
    # latest one at most, until the next loop or close().
    assert alive <= kept_by_grpcio + 2, (
        f"{alive} finished loops alive, grpcio keeps {kept_by_grpcio}"
    )
    gc.collect()
    assert len(loops) <= kept_by_grpcio + 1


def test_a_loop_that_is_not_closed_keeps_its_channel(target: str) -> None:
    """A loop that stopped but may run again (not closed) keeps a working channel."""
    client = GrpcClient(target)
    loop = asyncio.new_event_loop()
    try:
        first = loop.run_until_complete(client.call_async(GetUser("1")))
        assert asyncio.run(client.call_async(GetUser("2"))).is_success()  # another loop's turn
        again = loop.run_until_complete(client.call_async(GetUser("3")))
    finally:
        client.close()
        loop.close()
    assert first.is_success()
    assert again.is_success()
