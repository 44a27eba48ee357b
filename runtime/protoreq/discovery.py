"""Service discovery: find a target by service name, route requests by their ``service_name()``.

Two layers, for two kinds of infrastructure:

* **Which address serves "user.UserService"?** A :class:`ServiceRegistry` answers
  with a target (``StaticServiceRegistry`` from a mapping, ``EnvServiceRegistry``
  from environment variables, or your own class with a ``discover`` method, for
  Consul, a config service...). :class:`ServiceDiscoveryGrpcClient` asks once per
  service, keeps one ``GrpcClient`` per target, and sends each request to the
  client for its service.
* **Which machines are behind that address, and which one takes this call?**
  That is gRPC's own name resolution and load balancing, and a registry may
  simply answer with such a target: ``dns:///users.internal:50051`` (which grpcio
  re-resolves only when a connection drops; ``resolve_every=`` re-resolves it
  periodically), ``ipv4:10.0.0.1:50051,10.0.0.2:50051``
  (a fixed list), or ``xds:///users`` (a control plane such as Istio or Traffic
  Director; it needs an xDS bootstrap file from your platform). Spread calls over
  the addresses with ``load_balancing="round_robin"``; grpcio's default,
  ``pick_first``, sends everything to one address.

Targets are discovered once per service name and then cached, because a
registry lookup may be slow; when addresses change at runtime, use a live
registry (below), or answer with a ``dns:///`` target and pass ``resolve_every``.

A **live** registry (:class:`LiveServiceRegistry`: ``subscribe(service_name,
on_change)``, etcd's for one) pushes each service's addresses as they change;
:class:`ServiceDiscoveryGrpcClient` then keeps one client per *service*, which
balances over those addresses itself (:mod:`protoreq.transport.endpoints`).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypedDict, TypeVar, Unpack, runtime_checkable

import grpc
from google.protobuf.message import Message

from protoreq.channel import ChannelOption
from protoreq.client import GrpcClient
from protoreq.credentials import TlsConfig
from protoreq.errors import ClientClosedError, ProtoreqError
from protoreq.generated import GeneratedPaginatedGrpcRequest as PaginatedRequest
from protoreq.hedging import HedgingPolicy
from protoreq.outliers import OutlierEjection
from protoreq.pagination import AsyncPager, ItemT, Pager
from protoreq.request import (
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcRequest,
    ServerStreamingGrpcRequest,
)
from protoreq.resolvers import OnChange as OnChange  # noqa: PLC0414  # re-exported
from protoreq.resolvers import Subscription as Subscription  # noqa: PLC0414  # re-exported
from protoreq.response import GrpcResponse
from protoreq.retry import RetryPolicy, RetryThrottle
from protoreq.streaming import AsyncGrpcStream, GrpcStream

RespT = TypeVar("RespT", bound=Message)


class UnknownServiceError(ProtoreqError, LookupError):
    """A registry has no target for a service name."""


@runtime_checkable
class ServiceRegistry(Protocol):
    """Anything that maps a fully qualified service name to a gRPC target.

    ``discover("user.UserService")`` returns e.g. ``"user-service:50051"`` or
    ``"dns:///users.internal:50051"``, and raises :class:`UnknownServiceError`
    (or any ``LookupError``) for a service it does not know.
    """

    def discover(self, service_name: str) -> str: ...


@runtime_checkable
class LiveServiceRegistry(Protocol):
    """A registry that pushes changes: what etcd, Consul or ZooKeeper watches offer.

    ``subscribe(service_name, on_change)`` calls ``on_change(addresses)`` with
    the full tuple of the service's ``host:port`` addresses soon after it is
    called (an empty tuple when there is none) and again after every change, from
    any thread of the registry's; the :class:`Subscription` it returns stops
    that with ``close()``. The client's calls wait (within their deadlines) for
    the first ``on_change``.
    """

    def subscribe(self, service_name: str, on_change: OnChange) -> Subscription: ...


class _ServiceResolver:
    """One service of a live registry as its client's :class:`~protoreq.resolvers.Resolver`."""

    def __init__(self, registry: LiveServiceRegistry, service_name: str) -> None:
        self._registry = registry
        self._service_name = service_name

    def subscribe(self, on_change: OnChange) -> Subscription:
        return self._registry.subscribe(self._service_name, on_change)


class StaticServiceRegistry:
    """Targets from a mapping of service name to target, fixed at construction."""

    def __init__(self, targets: Mapping[str, str]) -> None:
        for name, target in targets.items():
            if not target:
                raise ValueError(f"empty target for service {name!r}")
        self._targets = dict(targets)

    def discover(self, service_name: str) -> str:
        try:
            return self._targets[service_name]
        except KeyError:
            known = ", ".join(sorted(self._targets)) or "none"
            raise UnknownServiceError(
                f"no target for service {service_name!r} in the static registry (it knows: {known})"
            ) from None

    def __repr__(self) -> str:
        return f"StaticServiceRegistry({self._targets!r})"


_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class EnvServiceRegistry:
    """Targets from environment variables, as the original design's ``USER_SERVICE_URL``.

    Naming rule: take the last component of the service name, split its
    CamelCase into words, join them upper-case with ``_``, and add ``prefix``
    before and ``suffix`` after:

    ========================== =============================
    service                    variable (defaults)
    ========================== =============================
    ``user.UserService``       ``USER_SERVICE_URL``
    ``catalog.ProductService`` ``PRODUCT_SERVICE_URL``
    ``acme.v1.HTTPGateway``    ``HTTP_GATEWAY_URL``
    ========================== =============================

    ``prefix="ACME_"`` gives ``ACME_USER_SERVICE_URL``. ``overrides`` maps a
    service name to a variable name of your choice, for names the rule gets wrong
    or two packages with equally named services. Variables are read at discovery
    time from ``environ`` (``os.environ`` unless given); an unset or empty one is
    an :class:`UnknownServiceError` naming the variable.
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        suffix: str = "_URL",
        overrides: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._prefix = prefix
        self._suffix = suffix
        self._overrides = dict(overrides or {})
        self._environ = environ

    def variable_name(self, service_name: str) -> str:
        """The environment variable that holds the target of ``service_name``."""
        override = self._overrides.get(service_name)
        if override is not None:
            return override
        last = service_name.rsplit(".", 1)[-1]
        if not last:
            raise UnknownServiceError(f"cannot derive a variable name from {service_name!r}")
        return f"{self._prefix}{_WORD_BOUNDARY.sub('_', last).upper()}{self._suffix}"

    def discover(self, service_name: str) -> str:
        name = self.variable_name(service_name)
        environ = os.environ if self._environ is None else self._environ
        target = environ.get(name, "").strip()
        if not target:
            raise UnknownServiceError(
                f"no target for service {service_name!r}: environment variable {name} is not set"
            )
        return target

    def __repr__(self) -> str:
        shown = [f"prefix={self._prefix!r}", f"suffix={self._suffix!r}"]
        if self._overrides:
            shown.append(f"overrides={self._overrides!r}")
        return f"EnvServiceRegistry({', '.join(shown)})"


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of :class:`GrpcClient`, for clients made on your behalf."""

    timeout: float | None
    retry: RetryPolicy | None
    hedging: HedgingPolicy | None
    retry_throttle: RetryThrottle | None
    pool_size: int
    share_channels: bool
    tls: TlsConfig | None
    credentials: grpc.ChannelCredentials | None
    call_credentials: grpc.CallCredentials | None
    max_send_message_length: int | None
    max_receive_message_length: int | None
    keepalive_time: float | None
    keepalive_timeout: float | None
    keepalive_permit_without_calls: bool
    compression: grpc.Compression | None
    wait_for_ready: bool | None
    load_balancing: str | None
    ssl_target_name_override: str | None
    options: Sequence[ChannelOption]
    interceptors: Sequence[object]
    log_payloads: bool
    resolve_every: float | None
    outlier_ejection: OutlierEjection | None


class ServiceDiscoveryGrpcClient:
    """Sends any request to the target its service is registered at.

    ``call(request)`` looks up ``request.service_name()`` in the registry, and
    keeps one :class:`GrpcClient` per *target* (services hosted together share
    it), made with ``client_options``. An unknown service raises
    :class:`UnknownServiceError` before anything is sent. ``close()`` /
    ``aclose()`` close every client it made.

    With a :class:`LiveServiceRegistry` it keeps one client per *service*
    instead, following that service's subscription: endpoints added are used at
    once, endpoints removed get no new calls (their calls in flight finish), and
    with none a call answers UNAVAILABLE naming the service. ``close()`` ends
    the subscriptions too.
    """

    def __init__(
        self,
        registry: ServiceRegistry | LiveServiceRegistry,
        **client_options: Unpack[ClientOptions],
    ) -> None:
        self._live = isinstance(registry, LiveServiceRegistry)
        if not self._live and not callable(getattr(registry, "discover", None)):
            raise TypeError(
                "registry must have a discover(service_name) method (or subscribe(service_name, "
                f"on_change) for a live registry), got {type(registry).__name__}"
            )
        if self._live and client_options.get("resolve_every") is not None:
            raise ValueError(
                "resolve_every re-resolves dns: targets; a live registry pushes changes"
            )
        self._registry = registry
        self._options = client_options
        self._targets: dict[str, str] = {}
        self._clients: dict[str, GrpcClient] = {}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def registry(self) -> ServiceRegistry | LiveServiceRegistry:
        return self._registry

    def target_for(self, service_name: str) -> str:
        """The target ``service_name`` is served at (discovered once, then cached).

        For a live registry, the service name itself: its client follows the
        service's addresses rather than one target.
        """
        target = self._targets.get(service_name)
        if target is None:
            if self._live:
                return service_name
            assert isinstance(self._registry, ServiceRegistry)
            try:
                target = self._registry.discover(service_name)
            except UnknownServiceError:
                raise
            except LookupError as error:
                raise UnknownServiceError(
                    f"no target for service {service_name!r}: {error}"
                ) from error
            if not target:
                raise UnknownServiceError(
                    f"the registry answered an empty target for {service_name!r}"
                )
            self._targets[service_name] = target
        return target

    def get_client(self, service_name: str) -> GrpcClient:
        """The client for ``service_name``'s target, made on first use; owned by this object."""
        if self._closed:
            raise ClientClosedError("ServiceDiscoveryGrpcClient is closed")
        target = self.target_for(service_name)
        client = self._clients.get(target)
        if client is None:
            with self._lock:
                if self._closed:
                    raise ClientClosedError("ServiceDiscoveryGrpcClient is closed")
                client = self._clients.get(target)
                if client is None:
                    client = self._clients[target] = self._new_client(target)
        return client

    def _new_client(self, target: str) -> GrpcClient:
        if not self._live:
            return GrpcClient(target, **self._options)
        assert isinstance(self._registry, LiveServiceRegistry)
        return GrpcClient(
            target, resolver=_ServiceResolver(self._registry, target), **self._options
        )

    def call(
        self, request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
    ) -> GrpcResponse[RespT]:
        """Send ``request`` to its service's target; failures come back as the response."""
        return self.get_client(request.service_name()).call(request)

    async def call_async(
        self, request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
    ) -> GrpcResponse[RespT]:
        return await self.get_client(request.service_name()).call_async(request)

    def stream(
        self, request: ServerStreamingGrpcRequest[Any, RespT] | BidiStreamingGrpcRequest[Any, RespT]
    ) -> GrpcStream[RespT]:
        """Start a streaming call at the request's service's target (see ``GrpcClient.stream``)."""
        return self.get_client(request.service_name()).stream(request)

    def stream_async(
        self, request: ServerStreamingGrpcRequest[Any, RespT] | BidiStreamingGrpcRequest[Any, RespT]
    ) -> AsyncGrpcStream[RespT]:
        return self.get_client(request.service_name()).stream_async(request)

    def paginate(self, request: PaginatedRequest[Any, RespT, ItemT]) -> Pager[RespT, ItemT]:
        """Every result of an AIP-158 list method, page after page (see ``GrpcClient.paginate``)."""
        return Pager(self, request)

    def paginate_async(
        self, request: PaginatedRequest[Any, RespT, ItemT]
    ) -> AsyncPager[RespT, ItemT]:
        return AsyncPager(self, request)

    def call_service(
        self,
        service_name: str,
        request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT],
    ) -> GrpcResponse[RespT]:
        """The original design's spelling: route by an explicit service name."""
        return self.get_client(service_name).call(request)

    def _take_clients(self) -> list[GrpcClient]:
        with self._lock:
            self._closed = True
            clients = list(self._clients.values())
            self._clients.clear()
        return clients

    def close(self) -> None:
        for client in self._take_clients():
            client.close()

    async def aclose(self) -> None:
        for client in self._take_clients():
            await client.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"ServiceDiscoveryGrpcClient({self._registry!r}, {len(self._clients)} clients, {state})"
        )


if TYPE_CHECKING:  # what type checkers see; at run time, __getattr__ imports them on first use
    from protoreq import etcd_registry as _etcd

    EtcdServiceRegistry = _etcd.EtcdServiceRegistry
    EtcdRegistration = _etcd.EtcdRegistration
    EtcdSubscription = _etcd.EtcdSubscription
    EtcdRegistrationError = _etcd.EtcdRegistrationError


def __getattr__(name: str) -> Any:
    """``EtcdServiceRegistry`` and its kin, imported on first use (``import protoreq.discovery``
    does not load etcd's generated API)."""
    if name in _ETCD_NAMES:
        from protoreq import etcd_registry  # noqa: PLC0415 (lazy on purpose)

        return getattr(etcd_registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_ETCD_NAMES = frozenset(
    {"EtcdServiceRegistry", "EtcdRegistration", "EtcdSubscription", "EtcdRegistrationError"}
)
