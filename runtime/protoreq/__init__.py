"""protoreq: typed gRPC request objects and the client that sends them."""

from protoreq._defaults import USE_CLIENT_DEFAULT, UseClientDefault
from protoreq._version import __version__
from protoreq.caller import GrpcCaller
from protoreq.channel import ChannelSettings
from protoreq.client import DEFAULT_RETRY, DEFAULT_TIMEOUT, GrpcClient
from protoreq.context import RequestContext
from protoreq.credentials import TlsConfig, token_call_credentials
from protoreq.discovery import (
    ClientOptions,
    EnvServiceRegistry,
    LiveServiceRegistry,
    ServiceDiscoveryGrpcClient,
    ServiceRegistry,
    StaticServiceRegistry,
    UnknownServiceError,
)
from protoreq.errors import (
    ClientClosedError,
    GrpcStatusError,
    InvalidInterceptorError,
    InvalidMetadataError,
    InvalidRequestError,
    ProtoreqError,
    UnknownMethodError,
)
from protoreq.generated import (
    GeneratedBidiStreamingGrpcRequest,
    GeneratedClientStreamingGrpcRequest,
    GeneratedGrpcRequest,
    GeneratedPaginatedGrpcRequest,
    GeneratedServerStreamingGrpcRequest,
)
from protoreq.hedging import HedgingPolicy
from protoreq.interceptors import ClientCall, Interceptor
from protoreq.logs import JsonLogFormatter
from protoreq.metadata import Metadata
from protoreq.method import Cardinality, Idempotency, RpcMethod
from protoreq.operations import OperationTypes, OperationWaiter, PollPolicy
from protoreq.outliers import OutlierEjection
from protoreq.pagination import AsyncPager, Pager
from protoreq.redaction import add_sensitive_metadata_keys
from protoreq.request import (
    BaseGrpcRequest,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcRequest,
    ServerStreamingGrpcRequest,
)
from protoreq.resolvers import DnsResolver, Resolver, StaticResolver
from protoreq.response import GrpcResponse
from protoreq.retry import (
    DEFAULT_RETRY_THROTTLE,
    NO_RETRY,
    RetryBudget,
    RetryPolicy,
    RetryThrottle,
)
from protoreq.streaming import AsyncGrpcStream, GrpcStream, StreamNotFinishedError

__all__ = [
    "DEFAULT_RETRY",
    "DEFAULT_RETRY_THROTTLE",
    "DEFAULT_TIMEOUT",
    "NO_RETRY",
    "USE_CLIENT_DEFAULT",
    "AsyncGrpcStream",
    "AsyncPager",
    "BaseGrpcRequest",
    "BidiStreamingGrpcRequest",
    "Cardinality",
    "ChannelSettings",
    "ClientCall",
    "ClientClosedError",
    "ClientOptions",
    "ClientStreamingGrpcRequest",
    "DnsResolver",
    "EnvServiceRegistry",
    "GeneratedBidiStreamingGrpcRequest",
    "GeneratedClientStreamingGrpcRequest",
    "GeneratedGrpcRequest",
    "GeneratedPaginatedGrpcRequest",
    "GeneratedServerStreamingGrpcRequest",
    "GrpcCaller",
    "GrpcClient",
    "GrpcRequest",
    "GrpcResponse",
    "GrpcStatusError",
    "GrpcStream",
    "HedgingPolicy",
    "Idempotency",
    "Interceptor",
    "InvalidInterceptorError",
    "InvalidMetadataError",
    "InvalidRequestError",
    "JsonLogFormatter",
    "LiveServiceRegistry",
    "Metadata",
    "OperationTypes",
    "OperationWaiter",
    "OutlierEjection",
    "Pager",
    "PollPolicy",
    "ProtoreqError",
    "RequestContext",
    "Resolver",
    "RetryBudget",
    "RetryPolicy",
    "RetryThrottle",
    "RpcMethod",
    "ServerStreamingGrpcRequest",
    "ServiceDiscoveryGrpcClient",
    "ServiceRegistry",
    "StaticResolver",
    "StaticServiceRegistry",
    "StreamNotFinishedError",
    "TlsConfig",
    "UnknownMethodError",
    "UnknownServiceError",
    "UseClientDefault",
    "__version__",
    "add_sensitive_metadata_keys",
    "token_call_credentials",
]
