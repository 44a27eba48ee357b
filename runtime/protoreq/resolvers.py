"""Name resolution done by protoreq: where the endpoints of a target come from at run time.

grpcio has no resolver API in Python (grpc/grpc#11685), and re-resolves
``dns:///`` names only when a connection is lost (grpc/grpc#12295), so
backends added behind a name are never used. A :class:`Resolver` here feeds
protoreq's own balancing layer (:mod:`protoreq.transport.endpoints`), which
keeps one channel set per address:

* :class:`DnsResolver` — ``getaddrinfo`` in a daemon thread, every ``every`` seconds;
* :class:`StaticResolver` — a fixed list (``ipv4:10.0.0.1:50051,10.0.0.2:50051``);
* a live registry's subscription (:class:`protoreq.discovery.LiveServiceRegistry`);
* or your own class with ``subscribe(on_change)``.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Final, Protocol, runtime_checkable

from protoreq.outliers import OutlierEjection

_logger: Final = logging.getLogger("protoreq")

OnChange = Callable[[tuple[str, ...]], object]
"""Called with the full tuple of ``host:port`` addresses each time they change."""

DEFAULT_RESOLVE_EVERY: Final = 30.0
"""Seconds between DNS resolutions when ``outlier_ejection`` alone asks for protoreq's balancing."""
_DEFAULT_DNS_PORT: Final = 443  # what grpcio assumes for a dns: target without a port


@runtime_checkable
class Subscription(Protocol):
    """What ``subscribe`` returns: ``close()`` stops the updates (called once, on client close)."""

    def close(self) -> None: ...


@runtime_checkable
class Resolver(Protocol):
    """A source of endpoints for one target: ``GrpcClient(name, resolver=...)``.

    ``subscribe(on_change)`` calls ``on_change(addresses)`` with the full tuple of
    ``host:port`` addresses soon after it is called (an empty tuple if there is
    none yet) and again after every change, from any thread. Until the first
    call, the client's calls wait for it (within their deadlines).
    """

    def subscribe(self, on_change: OnChange) -> Subscription: ...


class _Closed:
    def close(self) -> None:
        return None


class StaticResolver:
    """A fixed list of addresses: protoreq's balancing (and ejection) over an ``ipv4:`` list."""

    def __init__(self, addresses: Iterable[str]) -> None:
        self.addresses = tuple(address.strip() for address in addresses if address.strip())
        if not self.addresses:
            raise ValueError("StaticResolver needs at least one host:port address")

    def subscribe(self, on_change: OnChange) -> Subscription:
        on_change(self.addresses)
        return _Closed()

    def __repr__(self) -> str:
        return f"StaticResolver({list(self.addresses)!r})"


def resolve_addresses(host: str, port: int) -> list[str]:
    """``host``'s addresses in ``getaddrinfo``'s order, as ``ip:port`` (``[ip]:port``: IPv6)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: dict[str, None] = {}
    for family, _, _, _, sockaddr in found:
        ip = str(sockaddr[0])
        addresses[f"[{ip}]:{port}" if family == socket.AF_INET6 else f"{ip}:{port}"] = None
    return list(addresses)


Resolve = Callable[[str, int], Iterable[str]]
"""``resolve(host, port)``: the ``host:port`` addresses a name stands for now (or ``OSError``)."""


class DnsResolver:
    """Resolves ``host`` every ``every`` seconds in a daemon thread; the Kubernetes headless
    Service recipe. ``resolve`` (default: :func:`resolve_addresses`, ``getaddrinfo``) can be
    replaced, e.g. by a resolver library or a test's own table.

    A failed resolution keeps the addresses found before (as gRPC does) and is
    logged at WARNING once until one succeeds; only a first resolution that
    fails leaves the client with no endpoint, so that calls fail fast.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        every: float = DEFAULT_RESOLVE_EVERY,
        resolve: Resolve = resolve_addresses,
    ) -> None:
        if not host:
            raise ValueError("DnsResolver needs a host name")
        if not 0 < port < 65536:
            raise ValueError(f"port must be 1..65535, got {port}")
        if not every > 0:  # nan too
            raise ValueError(f"resolve_every must be positive seconds, got {every}")
        self.host = host
        self.port = port
        self.every = every
        self._resolve = resolve

    @classmethod
    def for_target(cls, target: str, *, every: float = DEFAULT_RESOLVE_EVERY) -> DnsResolver:
        """The resolver of a ``dns:///host:port`` target (or ``dns:host:port``, ``host:port``)."""
        host, port = _dns_host_port(target)
        return cls(host, port, every=every)

    @property
    def authority(self) -> str:
        """``host:port``: each endpoint's ``:authority`` (and the name TLS checks)."""
        return f"{self.host}:{self.port}"

    def resolve(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self._resolve(self.host, self.port)))

    def subscribe(self, on_change: OnChange) -> Subscription:
        return _DnsPolling(self, on_change)

    def __repr__(self) -> str:
        return f"DnsResolver({self.host!r}, {self.port}, every={self.every})"


class _DnsPolling:
    """The thread of one :meth:`DnsResolver.subscribe`; ``close()`` ends it at its next wake-up."""

    def __init__(self, resolver: DnsResolver, on_change: OnChange) -> None:
        self._resolver = resolver
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"protoreq-dns-{resolver.authority}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        last: tuple[str, ...] | None = None
        failing = False
        while not self._stop.is_set():
            try:
                addresses: tuple[str, ...] | None = self._resolver.resolve()
            except Exception as error:  # the loop must outlive a bad answer
                addresses = None
                if not failing:
                    _logger.warning(
                        "resolving %s failed (%s); keeping its last addresses",
                        self._resolver.authority,
                        error,
                    )
                failing = True
            else:
                failing = False
            if addresses is None and last is None:
                addresses = ()  # nothing found yet: calls fail fast rather than wait
            if addresses is not None and addresses != last and not self._stop.is_set():
                last = addresses
                self._on_change(addresses)
            self._stop.wait(self._resolver.every)

    def close(self) -> None:
        self._stop.set()  # not joined: the thread may sit in getaddrinfo; it is a daemon


def _dns_host_port(target: str) -> tuple[str, int]:
    """``host`` and ``port`` of ``dns:///host:port``, ``dns:host:port`` or ``host:port``."""
    rest = target
    if target.startswith("dns://"):
        authority, slash, rest = target.removeprefix("dns://").partition("/")
        if authority or not slash:
            raise ValueError(
                f"{target!r}: protoreq's DNS resolution uses the system resolver; "
                "write dns:///host:port (no DNS server authority)"
            )
    elif target.startswith("dns:"):
        rest = target.removeprefix("dns:")
    if rest.startswith("["):  # [v6 literal]:port
        host, _, port_text = rest[1:].partition("]")
        port_text = port_text.removeprefix(":")
    else:
        host, _, port_text = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if not host or "/" in host or "," in host:
        raise ValueError(f"{target!r} is not a dns:///host:port target")
    if not port_text:
        return host, _DEFAULT_DNS_PORT
    if not port_text.isdigit():
        raise ValueError(f"{target!r}: port {port_text!r} is not a number")
    return host, int(port_text)


_LIST_SCHEMES: Final = ("ipv4:", "ipv6:")


def address_list(target: str) -> list[str] | None:
    """The addresses of an ``ipv4:a:p,b:p`` / ``ipv6:[a]:p,[b]:p`` target; ``None`` for others."""
    for scheme in _LIST_SCHEMES:
        if target.startswith(scheme):
            return [part.strip() for part in target.removeprefix(scheme).split(",") if part.strip()]
    return None


def resolver_for(
    target: str,
    *,
    resolver: Resolver | None,
    resolve_every: float | None,
    outlier_ejection: OutlierEjection | None,
) -> Resolver | None:
    """The resolver feeding protoreq's balancing for these client settings; ``None``: grpcio's.

    A client asks for protoreq's balancing with ``resolver=``, with ``resolve_every=``
    (a DNS target), or with ``outlier_ejection=`` on a target protoreq can split
    into addresses. A plain target without them goes to grpcio unchanged.
    """
    if resolver is not None:
        if resolve_every is not None:
            raise ValueError("resolve_every applies to dns: targets; a resolver= resolves itself")
        if not callable(getattr(resolver, "subscribe", None)):
            raise TypeError(
                f"resolver must have a subscribe(on_change) method, got {type(resolver).__name__}"
            )
        return resolver
    if resolve_every is None and outlier_ejection is None:
        return None
    addresses = address_list(target)
    if addresses is not None:
        if resolve_every is not None:
            raise ValueError(
                f"resolve_every re-resolves dns: targets; {target!r} is a fixed address list"
            )
        return StaticResolver(addresses)
    scheme = target.partition(":")[0]
    if scheme in ("unix", "unix-abstract", "vsock", "xds", "google-c2p"):
        raise ValueError(
            f"{target!r}: resolve_every and outlier_ejection need a target protoreq can resolve "
            "(dns:///host:port, host:port, or an ipv4:/ipv6: address list) or a resolver="
        )
    return DnsResolver.for_target(
        target, every=DEFAULT_RESOLVE_EVERY if resolve_every is None else resolve_every
    )


def authority_of(resolver: Resolver) -> str | None:
    """The ``:authority`` a resolver's endpoints should send (a DNS name's), if it has one."""
    authority = getattr(resolver, "authority", None)
    return authority if isinstance(authority, str) else None


def joined(addresses: Sequence[str]) -> str:
    return ", ".join(addresses) or "none"
