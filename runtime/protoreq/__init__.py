"""protoreq: typed gRPC request objects and the client that sends them.

Every public name is loaded on first use (PEP 562 ``__getattr__``): a generated
module needs the request bases, ``RpcMethod`` and ``GrpcResponse``, not the
client, its channels, interceptors and streams, so a program that only imports
generated code (a CLI printing ``--help``, a module declaring types) does not
pay for them. ``from protoreq import X`` and ``protoreq.X`` work as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from protoreq._version import __version__

if TYPE_CHECKING:
    from protoreq._defaults import USE_CLIENT_DEFAULT, UseClientDefault
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

_EXPORTS: Final[dict[str, tuple[str, ...]]] = {
    "protoreq._defaults": (
        "USE_CLIENT_DEFAULT",
        "UseClientDefault",
    ),
    "protoreq.caller": ("GrpcCaller",),
    "protoreq.channel": ("ChannelSettings",),
    "protoreq.client": (
        "DEFAULT_RETRY",
        "DEFAULT_TIMEOUT",
        "GrpcClient",
    ),
    "protoreq.context": ("RequestContext",),
    "protoreq.credentials": (
        "TlsConfig",
        "token_call_credentials",
    ),
    "protoreq.discovery": (
        "ClientOptions",
        "EnvServiceRegistry",
        "LiveServiceRegistry",
        "ServiceDiscoveryGrpcClient",
        "ServiceRegistry",
        "StaticServiceRegistry",
        "UnknownServiceError",
    ),
    "protoreq.errors": (
        "ClientClosedError",
        "GrpcStatusError",
        "InvalidInterceptorError",
        "InvalidMetadataError",
        "InvalidRequestError",
        "ProtoreqError",
        "UnknownMethodError",
    ),
    "protoreq.generated": (
        "GeneratedBidiStreamingGrpcRequest",
        "GeneratedClientStreamingGrpcRequest",
        "GeneratedGrpcRequest",
        "GeneratedPaginatedGrpcRequest",
        "GeneratedServerStreamingGrpcRequest",
    ),
    "protoreq.hedging": ("HedgingPolicy",),
    "protoreq.interceptors": (
        "ClientCall",
        "Interceptor",
    ),
    "protoreq.logs": ("JsonLogFormatter",),
    "protoreq.metadata": ("Metadata",),
    "protoreq.method": (
        "Cardinality",
        "Idempotency",
        "RpcMethod",
    ),
    "protoreq.operations": (
        "OperationTypes",
        "OperationWaiter",
        "PollPolicy",
    ),
    "protoreq.outliers": ("OutlierEjection",),
    "protoreq.pagination": (
        "AsyncPager",
        "Pager",
    ),
    "protoreq.redaction": ("add_sensitive_metadata_keys",),
    "protoreq.request": (
        "BaseGrpcRequest",
        "BidiStreamingGrpcRequest",
        "ClientStreamingGrpcRequest",
        "GrpcRequest",
        "ServerStreamingGrpcRequest",
    ),
    "protoreq.resolvers": (
        "DnsResolver",
        "Resolver",
        "StaticResolver",
    ),
    "protoreq.response": ("GrpcResponse",),
    "protoreq.retry": (
        "DEFAULT_RETRY_THROTTLE",
        "NO_RETRY",
        "RetryBudget",
        "RetryPolicy",
        "RetryThrottle",
    ),
    "protoreq.streaming": (
        "AsyncGrpcStream",
        "GrpcStream",
        "StreamNotFinishedError",
    ),
}
"""Where each public name lives; ``__all__`` is exactly these names and ``__version__``."""

_MODULE_OF: Final = {name: module for module, names in _EXPORTS.items() for name in names}


if not TYPE_CHECKING:  # mypy sees the imports above; a visible __getattr__ would make
    # it accept any misspelt ``protoreq.Name`` as Any

    def __getattr__(name: str) -> Any:
        """Import the module owning ``name`` on first use; keep the value as a plain attribute."""
        module = _MODULE_OF.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
            globals()[name] = value
            return value
        try:  # ``protoreq.errors`` and friends, as when every submodule was imported eagerly
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


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
