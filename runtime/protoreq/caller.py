"""``GrpcCaller``: what sends requests, as the generated facades see it.

A facade (``UserServiceClient(client)``) only ever calls ``call``,
``call_async``, ``stream`` and ``stream_async``; typing its ``client`` as this
protocol rather than as :class:`GrpcClient` lets it wrap anything that sends
requests the same way: a :class:`GrpcClient`, a
:class:`ServiceDiscoveryGrpcClient`, the test fake
(``protoreq.testing.FakeGrpcClient``) or a wrapper of your own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from google.protobuf.message import Message

if TYPE_CHECKING:
    from protoreq.request import (
        BidiStreamingGrpcRequest,
        ClientStreamingGrpcRequest,
        GrpcRequest,
        ServerStreamingGrpcRequest,
    )
    from protoreq.response import GrpcResponse
    from protoreq.streaming import AsyncGrpcStream, GrpcStream

RespT = TypeVar("RespT", bound=Message)


class GrpcCaller(Protocol):
    """The four sending methods of :class:`GrpcClient`, typed exactly as there."""

    def call(
        self, request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
    ) -> GrpcResponse[RespT]: ...

    async def call_async(
        self, request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
    ) -> GrpcResponse[RespT]: ...

    def stream(
        self, request: ServerStreamingGrpcRequest[Any, RespT] | BidiStreamingGrpcRequest[Any, RespT]
    ) -> GrpcStream[RespT]: ...

    def stream_async(
        self, request: ServerStreamingGrpcRequest[Any, RespT] | BidiStreamingGrpcRequest[Any, RespT]
    ) -> AsyncGrpcStream[RespT]: ...
