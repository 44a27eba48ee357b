"""protoreq: typed gRPC request objects and the client that sends them."""

from protoreq._defaults import USE_CLIENT_DEFAULT, UseClientDefault
from protoreq._version import __version__
from protoreq.context import RequestContext
from protoreq.errors import (
    ClientClosedError,
    GrpcStatusError,
    InvalidMetadataError,
    InvalidRequestError,
    ProtoreqError,
    UnknownMethodError,
)
from protoreq.method import Cardinality, Idempotency, RpcMethod
from protoreq.request import (
    BaseGrpcRequest,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcRequest,
    ServerStreamingGrpcRequest,
)
from protoreq.retry import RetryPolicy

__all__ = [
    "USE_CLIENT_DEFAULT",
    "BaseGrpcRequest",
    "BidiStreamingGrpcRequest",
    "Cardinality",
    "ClientClosedError",
    "ClientStreamingGrpcRequest",
    "GrpcRequest",
    "GrpcStatusError",
    "Idempotency",
    "InvalidMetadataError",
    "InvalidRequestError",
    "ProtoreqError",
    "RequestContext",
    "RetryPolicy",
    "RpcMethod",
    "ServerStreamingGrpcRequest",
    "UnknownMethodError",
    "UseClientDefault",
    "__version__",
]
