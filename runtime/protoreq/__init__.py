"""protoreq: typed gRPC request objects and the client that sends them."""

from protoreq._defaults import USE_CLIENT_DEFAULT, UseClientDefault
from protoreq._version import __version__
from protoreq.channel import ChannelSettings
from protoreq.client import DEFAULT_RETRY, DEFAULT_TIMEOUT, GrpcClient
from protoreq.context import RequestContext
from protoreq.errors import (
    ClientClosedError,
    GrpcStatusError,
    InvalidMetadataError,
    InvalidRequestError,
    ProtoreqError,
    UnknownMethodError,
)
from protoreq.logs import JsonLogFormatter
from protoreq.metadata import Metadata
from protoreq.method import Cardinality, Idempotency, RpcMethod
from protoreq.request import (
    BaseGrpcRequest,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcRequest,
    ServerStreamingGrpcRequest,
)
from protoreq.response import GrpcResponse
from protoreq.retry import NO_RETRY, RetryPolicy
from protoreq.streaming import AsyncGrpcStream, GrpcStream, StreamNotFinishedError

__all__ = [
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "NO_RETRY",
    "USE_CLIENT_DEFAULT",
    "AsyncGrpcStream",
    "BaseGrpcRequest",
    "BidiStreamingGrpcRequest",
    "Cardinality",
    "ChannelSettings",
    "ClientClosedError",
    "ClientStreamingGrpcRequest",
    "GrpcClient",
    "GrpcRequest",
    "GrpcResponse",
    "GrpcStatusError",
    "GrpcStream",
    "Idempotency",
    "InvalidMetadataError",
    "InvalidRequestError",
    "JsonLogFormatter",
    "Metadata",
    "ProtoreqError",
    "RequestContext",
    "RetryPolicy",
    "RpcMethod",
    "ServerStreamingGrpcRequest",
    "StreamNotFinishedError",
    "UnknownMethodError",
    "UseClientDefault",
    "__version__",
]
