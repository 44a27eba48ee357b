"""A live service registry on etcd, in the endpoint layout Go services register with.

:class:`EtcdServiceRegistry` speaks etcd's v3 gRPC API through a protoreq
:class:`~protoreq.GrpcClient` (its retries and call logging included), with request classes
protoreq generated from etcd's own protos (:mod:`protoreq._etcd`): no etcd client package.

The layout is ``go.etcd.io/etcd/client/v3/naming/endpoints``'s, so Python and Go services
find each other: one key per endpoint, ``<prefix><service>/<address>``, whose value is the JSON
``{"Op":0,"Addr":"host:port","Metadata":...}``, usually attached to a lease so that it goes
away when its server stops renewing it. Like Go's reader, any JSON object with an ``Addr``
is an endpoint (``Op`` and ``Metadata`` may be missing; field names match case-insensitively).

Three things, all synchronous (the waiting happens in daemon threads of the registry, which
``close()`` stops):

* ``discover(service)``: one read, the first live address (what any ``ServiceRegistry`` does);
* ``subscribe(service, on_change)``: every change of the service's address list, pushed from a
  background thread (a prefix read, then etcd's Watch stream from the next revision; on any
  failure, including an etcd restart, it backs off, reads the prefix again and carries on);
* ``register(service, address, ttl=...)``: announces an address under a lease kept alive by
  one LeaseKeepAlive stream per registry; closing the returned handle revokes the lease.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Final, Self, Unpack

import grpc

from protoreq._etcd import kv_pb2, rpc_pb2
from protoreq._etcd.rpc_protoreq import (
    DeleteRangeGrpcRequest,
    LeaseGrantGrpcRequest,
    LeaseKeepAliveGrpcRequest,
    LeaseRevokeGrpcRequest,
    PutGrpcRequest,
    RangeGrpcRequest,
    WatchGrpcRequest,
)
from protoreq.client import GrpcClient
from protoreq.discovery import ClientOptions, UnknownServiceError
from protoreq.errors import ClientClosedError, ProtoreqError
from protoreq.response import GrpcResponse
from protoreq.streaming import GrpcStream

_log: Final = logging.getLogger("protoreq.discovery")

DEFAULT_ETCD_TIMEOUT: Final = 5.0
"""Seconds each unary call to etcd may take, unless ``timeout=`` says otherwise."""

_MAX_RECONNECT_BACKOFF_MS: Final = 2000
"""grpcio's reconnect backoff grows to 120 s by default; an etcd that restarts is back sooner."""

OnChange = Callable[[tuple[str, ...]], None]


class EtcdSettingsError(ProtoreqError, ValueError):
    """An argument the etcd registry cannot work with (empty service name, bad ttl...)."""


class EtcdRegistrationError(ProtoreqError, RuntimeError):
    """etcd could not be reached, or refused, when registering an address."""


# etcd's endpoint layout ------------------------------------------------------------------


def endpoint_value(address: str, metadata: object = None) -> bytes:
    """The value Go's ``endpoints.Manager.AddEndpoint`` writes for ``address``."""
    document = {"Op": 0, "Addr": address, "Metadata": metadata}
    return json.dumps(document, separators=(",", ":")).encode()


def address_in(value: bytes) -> str | None:
    """The ``Addr`` of an endpoint value, or ``None`` when it is not one (logged by callers).

    Go's ``encoding/json`` matches field names case-insensitively, and its reader ignores
    ``Op`` on a stored value (a key that exists is an endpoint): so does this.
    """
    try:
        document = json.loads(value)
    except ValueError:  # also UnicodeDecodeError
        return None
    if not isinstance(document, dict):
        return None
    for name, field in document.items():
        if name.lower() == "addr":
            return field if isinstance(field, str) and field else None
    return None


def _range_end(prefix: bytes) -> bytes:
    """The end of etcd's ``[prefix, end)`` range holding every key that starts with ``prefix``."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return b"\x00"  # etcd: every key from prefix on
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


def _check_name(what: str, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise EtcdSettingsError(f"{what} must be a non-empty string, got {value!r}")


def _etcd_target(endpoints: str | Sequence[str]) -> str:
    """A gRPC target for etcd's client URLs: one ``host:port`` (or target), or IPv4 ones."""
    listed = [endpoints] if isinstance(endpoints, str) else list(endpoints)
    if not listed or not all(isinstance(item, str) and item for item in listed):
        raise EtcdSettingsError(f"endpoints must be host:port strings, got {endpoints!r}")
    if any(item.startswith("https://") for item in listed):
        raise EtcdSettingsError("for TLS, pass host:port endpoints and tls=TlsConfig(...)")
    bare = [item.removeprefix("http://") for item in listed]
    if len(bare) == 1:
        return bare[0]
    for item in bare:
        host = item.rpartition(":")[0]
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise EtcdSettingsError(
                f"several etcd endpoints must be IPv4 host:port ({item!r} is not); "
                "for names, pass one target such as 'dns:///etcd.internal:2379'"
            ) from None
    return "ipv4:" + ",".join(bare)


class _Backoff:
    """Exponential waits with jitter between reconnection attempts; ``wait`` wakes on stop."""

    def __init__(self, initial: float = 0.1, maximum: float = 2.0) -> None:
        self._initial = initial
        self._maximum = maximum
        self._next = initial

    def reset(self) -> None:
        self._next = self._initial

    def wait(self, stopped: threading.Event) -> bool:
        """Sleep the next interval; ``True`` when ``stopped`` was set meanwhile."""
        delay = random.uniform(self._next / 2, self._next)  # jitter, not cryptography
        self._next = min(self._maximum, self._next * 2)
        return stopped.wait(delay)


def _held_open(
    first: rpc_pb2.WatchRequest, ended: threading.Event
) -> Iterator[rpc_pb2.WatchRequest]:
    """A bidi request stream that sends ``first`` and stays open until ``ended`` is set.

    grpcio pulls it from a thread of its own; ending it early would half-close the stream.
    """
    yield first
    ended.wait()


# subscriptions ---------------------------------------------------------------------------


class EtcdSubscription:
    """The address list of one service, pushed to ``on_change`` from a daemon thread.

    ``on_change`` gets the full, sorted tuple of distinct addresses: first once the initial
    read is done (maybe empty), then whenever it changes. Errors (etcd down, a broken watch
    stream, an exception of ``on_change``) are logged and retried with backoff. Once
    ``close()`` has returned (it waits for a running ``on_change``, unless called from it),
    ``on_change`` is not called again.
    """

    def __init__(
        self, client: GrpcClient, prefix: bytes, service: str, on_change: OnChange
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._range_end = _range_end(prefix)
        self._service = service
        self._on_change = on_change
        self._stopped = threading.Event()
        self._callback_lock = threading.RLock()  # RLock: on_change may close its subscription
        self._stream_lock = threading.Lock()
        self._stream: GrpcStream[rpc_pb2.WatchResponse] | None = None
        self._entries: dict[bytes, str] = {}
        self._last: tuple[str, ...] | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"protoreq-etcd-watch {service}", daemon=True
        )
        self._thread.start()

    @property
    def service(self) -> str:
        return self._service

    def close(self) -> None:
        """Stop watching; idempotent. Waits (briefly) for the thread unless called from it."""
        with self._callback_lock:
            self._stopped.set()
        with self._stream_lock:
            stream = self._stream
        if stream is not None:
            stream.cancel()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        backoff = _Backoff()
        while not self._stopped.is_set():
            revision = self._read_all()
            if revision is not None and self._watch_from(revision + 1):
                backoff.reset()
            if backoff.wait(self._stopped):
                return

    def _read_all(self) -> int | None:
        """Read the whole prefix (a full resync); its revision, or ``None`` on failure."""
        response = self._client.call(RangeGrpcRequest(key=self._prefix, range_end=self._range_end))
        if not response.is_success():
            if not self._stopped.is_set():
                _log.warning(
                    "etcd: cannot read %r for %s (%s: %s); retrying",
                    self._prefix.decode(errors="replace"),
                    self._service,
                    response.status_code().name,
                    response.details(),
                )
            return None
        message = response.message()
        self._entries = {}
        for kv in message.kvs:
            self._put(kv)
        self._notify()
        return message.header.revision

    def _put(self, kv: kv_pb2.KeyValue) -> None:
        address = address_in(kv.value)
        if address is None:
            _log.warning(
                "etcd: %r is not an endpoint value, ignored", kv.key.decode(errors="replace")
            )
            self._entries.pop(kv.key, None)
        else:
            self._entries[kv.key] = address

    def _watch_from(self, revision: int) -> bool:
        """Follow changes from ``revision`` until the stream ends; ``True`` if it was created."""
        create = rpc_pb2.WatchCreateRequest(
            key=self._prefix, range_end=self._range_end, start_revision=revision
        )
        ended = threading.Event()
        messages = _held_open(rpc_pb2.WatchRequest(create_request=create), ended)
        created = False
        with self._stream_lock:
            if self._stopped.is_set():
                return False
            stream = self._stream = self._client.stream(
                WatchGrpcRequest(messages=messages, timeout=None)
            )
        try:
            for response in stream:
                if response.created:
                    created = True
                if response.canceled or response.compact_revision:
                    _log.warning(
                        "etcd: the watch of %s was cancelled (%s); reading it again",
                        self._service,
                        response.cancel_reason or f"compacted at {response.compact_revision}",
                    )
                    break
                for event in response.events:
                    if event.type == kv_pb2.Event.DELETE:
                        self._entries.pop(event.kv.key, None)
                    else:
                        self._put(event.kv)
                if response.events:
                    self._notify()
        finally:
            ended.set()
            stream.cancel()
            with self._stream_lock:
                self._stream = None
        if not self._stopped.is_set() and stream.status_code() != grpc.StatusCode.CANCELLED:
            _log.warning(
                "etcd: the watch of %s ended (%s: %s); reconnecting",
                self._service,
                stream.status_code().name,
                stream.details(),
            )
        return created

    def _notify(self) -> None:
        addresses = tuple(sorted(set(self._entries.values())))
        if addresses == self._last:
            return
        with self._callback_lock:
            if self._stopped.is_set():
                return
            self._last = addresses
            try:
                self._on_change(addresses)
            except Exception:
                _log.exception("etcd: on_change of the %s subscription raised", self._service)

    def __repr__(self) -> str:
        state = "closed" if self._stopped.is_set() else "open"
        return f"EtcdSubscription({self._service!r}, {state})"


# registrations ---------------------------------------------------------------------------


class EtcdRegistration:
    """An address announced under a lease; ``close()`` (or the ``with`` block) withdraws it.

    The registry keeps the lease alive; when etcd says it has expired anyway (etcd was out
    of reach for longer than ``ttl``), the registry grants a new one and writes the key again.
    """

    def __init__(
        self,
        registry: EtcdServiceRegistry,
        *,
        service: str,
        address: str,
        key: bytes,
        value: bytes,
        ttl: int,
    ) -> None:
        self._registry = registry
        self.service: Final = service
        self.address: Final = address
        self.key: Final = key
        self._value = value
        self.ttl: Final = ttl
        self.lease_id = 0
        """The current lease (it changes when an expired lease is replaced)."""
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _acquire(self) -> GrpcResponse[Any] | None:
        """Grant a lease and put the key under it; the failed response, or ``None`` when done."""
        client = self._registry._client
        grant = client.call(LeaseGrantGrpcRequest(TTL=self.ttl))
        if not grant.is_success():
            return grant
        lease_id = self.lease_id = grant.message().ID  # before the key is visible under it
        put = client.call(PutGrpcRequest(key=self.key, value=self._value, lease=lease_id))
        if not put.is_success():
            client.call(LeaseRevokeGrpcRequest(ID=lease_id))
            return put
        return None

    def close(self) -> None:
        """Revoke the lease, which deletes the key; idempotent, never raises (failures logged)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._registry._keeper.forget(self)
        revoked = self._registry._client.call(LeaseRevokeGrpcRequest(ID=self.lease_id))
        if not revoked.is_success() and revoked.status_code() != grpc.StatusCode.NOT_FOUND:
            _log.warning(
                "etcd: could not revoke the lease of %s (%s: %s); it goes within %d s",
                self.key.decode(errors="replace"),
                revoked.status_code().name,
                revoked.details(),
                self.ttl,
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"lease {self.lease_id:x}"
        return f"EtcdRegistration({self.service!r}, {self.address!r}, ttl={self.ttl}, {state})"


class _LeaseKeeper:
    """Keeps every registration's lease alive over one LeaseKeepAlive stream (a daemon thread).

    Every third of the shortest TTL, the stream's request side sends one keep-alive per lease;
    the thread reads the answers. A TTL of 0 means etcd dropped the lease: the registration is
    written again under a new one. A broken stream is reopened with backoff.
    """

    def __init__(self, client: GrpcClient) -> None:
        self._client = client
        self._leases: dict[int, EtcdRegistration] = {}
        self._lock = threading.Lock()
        self._kick = threading.Event()  # wakes the request side: a new lease, or the end
        self._stopped = threading.Event()
        self._stream: GrpcStream[rpc_pb2.LeaseKeepAliveResponse] | None = None
        self._thread: threading.Thread | None = None

    def keep(self, registration: EtcdRegistration) -> None:
        with self._lock:
            self._leases[registration.lease_id] = registration
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="protoreq-etcd-keepalive", daemon=True
                )
                self._thread.start()
        self._kick.set()

    def forget(self, registration: EtcdRegistration) -> None:
        with self._lock:
            for lease_id, kept in list(self._leases.items()):
                if kept is registration:
                    del self._leases[lease_id]

    def registrations(self) -> list[EtcdRegistration]:
        with self._lock:
            return list(self._leases.values())

    def stop(self) -> None:
        with self._lock:
            self._stopped.set()
            stream, thread = self._stream, self._thread
        self._kick.set()
        if stream is not None:
            stream.cancel()
        if thread is not None:
            thread.join(timeout=2.0)

    def _interval(self) -> float:
        with self._lock:
            ttls = [registration.ttl for registration in self._leases.values()]
        return max(0.2, min(ttls) / 3) if ttls else 1.0

    def _requests(self, ended: threading.Event) -> Iterator[rpc_pb2.LeaseKeepAliveRequest]:
        while not ended.is_set():
            with self._lock:
                lease_ids = list(self._leases)
            for lease_id in lease_ids:
                yield rpc_pb2.LeaseKeepAliveRequest(ID=lease_id)
            self._kick.wait(self._interval())
            self._kick.clear()

    def _run(self) -> None:
        backoff = _Backoff()
        while not self._stopped.is_set():
            if self._keep_alive():
                backoff.reset()
            if backoff.wait(self._stopped):
                return

    def _keep_alive(self) -> bool:
        """One stream's life; ``True`` when etcd answered on it."""
        ended = threading.Event()
        answered = False
        with self._lock:
            if self._stopped.is_set():
                return False
            stream = self._stream = self._client.stream(
                LeaseKeepAliveGrpcRequest(messages=self._requests(ended), timeout=None)
            )
        try:
            for response in stream:
                answered = True
                if response.TTL <= 0:
                    self._replace_lease(response.ID)
        finally:
            ended.set()
            self._kick.set()
            stream.cancel()
            with self._lock:
                self._stream = None
        if not self._stopped.is_set():
            _log.warning(
                "etcd: the lease keep-alive stream ended (%s: %s); reconnecting",
                stream.status_code().name,
                stream.details(),
            )
        return answered

    def _replace_lease(self, lease_id: int) -> None:
        with self._lock:
            registration = self._leases.pop(lease_id, None)
        if registration is None or registration.closed:
            return
        _log.warning("etcd: the lease of %r expired; registering it again", registration.address)
        failed = registration._acquire()
        if failed is not None:
            _log.warning(
                "etcd: could not register %r again (%s: %s); retrying",
                registration.address,
                failed.status_code().name,
                failed.details(),
            )
            failed_id = lease_id  # keep sending for it: etcd answers TTL 0 again, we retry then
        elif registration.closed:  # closed meanwhile: its new lease must not outlive it
            self._client.call(LeaseRevokeGrpcRequest(ID=registration.lease_id))
            return
        else:
            failed_id = registration.lease_id
        with self._lock:
            if not registration.closed:
                self._leases[failed_id] = registration


# the registry ----------------------------------------------------------------------------


class EtcdServiceRegistry:
    """Service discovery and registration on etcd (see the module docstring for the layout).

    ``endpoints`` is etcd's client address: ``"host:port"`` (``http://`` is accepted), any
    gRPC target (``"dns:///etcd.internal:2379"``), or a list of IPv4 ``host:port``. Keys live
    under ``prefix`` (``"services/"`` gives ``services/<service>/<address>``). The other
    keywords are :class:`~protoreq.GrpcClient`'s, for the client that talks to etcd (its
    ``timeout`` defaults to 5 s). Use it as a context manager, or ``close()`` it: that
    withdraws its registrations and stops its threads.
    """

    def __init__(
        self,
        endpoints: str | Sequence[str] = "127.0.0.1:2379",
        prefix: str = "",
        **client_options: Unpack[ClientOptions],
    ) -> None:
        if not isinstance(prefix, str):
            raise EtcdSettingsError(f"prefix must be a string, got {prefix!r}")
        self._target = _etcd_target(endpoints)
        self._prefix = prefix
        options: ClientOptions = {"timeout": DEFAULT_ETCD_TIMEOUT, **client_options}
        channel_options = list(options.get("options", ()))
        if not any(name == "grpc.max_reconnect_backoff_ms" for name, _ in channel_options):
            channel_options.append(("grpc.max_reconnect_backoff_ms", _MAX_RECONNECT_BACKOFF_MS))
        options["options"] = channel_options
        self._client = GrpcClient(self._target, **options)
        self._keeper = _LeaseKeeper(self._client)
        self._subscriptions: list[EtcdSubscription] = []
        self._lock = threading.Lock()
        self._closed = False

    @property
    def prefix(self) -> str:
        return self._prefix

    def service_prefix(self, service_name: str) -> str:
        """The keys of ``service_name``'s endpoints start with this: ``<prefix><service>/``."""
        _check_name("service_name", service_name)
        return f"{self._prefix}{service_name}/"

    def key(self, service_name: str, address: str) -> str:
        """The key ``register(service_name, address)`` writes."""
        _check_name("address", address)
        return f"{self.service_prefix(service_name)}{address}"

    def addresses(self, service_name: str) -> tuple[str, ...]:
        """The live addresses of ``service_name`` now (one read); raises when etcd cannot answer."""
        prefix = self.service_prefix(service_name).encode()
        response = self._client.call(RangeGrpcRequest(key=prefix, range_end=_range_end(prefix)))
        if not response.is_success():
            raise UnknownServiceError(
                f"no target for service {service_name!r}: etcd at {self._target} could not list "
                f"{prefix.decode()!r} ({response.status_code().name}: {response.details()})"
            )
        found = (address_in(kv.value) for kv in response.message().kvs)
        return tuple(dict.fromkeys(address for address in found if address is not None))

    def discover(self, service_name: str) -> str:
        """The first live address of ``service_name`` (in key order), as a gRPC target."""
        addresses = self.addresses(service_name)
        if not addresses:
            raise UnknownServiceError(
                f"no target for service {service_name!r}: no endpoint under "
                f"{self.service_prefix(service_name)!r} in etcd at {self._target}"
            )
        return addresses[0]

    def subscribe(self, service_name: str, on_change: OnChange) -> EtcdSubscription:
        """Call ``on_change(addresses)`` with each new address list (see ``EtcdSubscription``)."""
        prefix = self.service_prefix(service_name).encode()
        if not callable(on_change):
            raise EtcdSettingsError(f"on_change must be callable, got {on_change!r}")
        with self._lock:
            self._check_open()
            subscription = EtcdSubscription(self._client, prefix, service_name, on_change)
            self._subscriptions.append(subscription)
        return subscription

    def register(
        self,
        service_name: str,
        address: str,
        ttl: float = 10.0,
        metadata: object = None,
    ) -> EtcdRegistration:
        """Announce ``address`` for ``service_name`` under a lease of ``ttl`` seconds, kept alive.

        etcd's TTLs are whole seconds (a fraction rounds up; etcd may raise small ones to its
        minimum). ``metadata`` is stored as the value's JSON ``Metadata``. Raises
        :class:`EtcdRegistrationError` when etcd cannot be reached or refuses.
        """
        key = self.key(service_name, address).encode()
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl < math.inf:
            raise EtcdSettingsError(f"ttl must be a positive number of seconds, got {ttl!r}")
        try:
            value = endpoint_value(address, metadata)
        except (TypeError, ValueError) as error:
            raise EtcdSettingsError(f"metadata must be JSON-serialisable: {error}") from None
        self._check_open()
        registration = EtcdRegistration(
            self, service=service_name, address=address, key=key, value=value, ttl=math.ceil(ttl)
        )
        failed = registration._acquire()
        if failed is not None:
            raise EtcdRegistrationError(
                f"could not register {address!r} for {service_name!r} in etcd at {self._target}: "
                f"{failed.status_code().name}: {failed.details()}"
            )
        self._keeper.keep(registration)
        return registration

    def deregister(self, service_name: str, address: str) -> None:
        """Withdraw ``address``: close its registrations here, and delete its key in any case."""
        key = self.key(service_name, address).encode()
        for registration in self._keeper.registrations():
            if registration.key == key:
                registration.close()
        deleted = self._client.call(DeleteRangeGrpcRequest(key=key))
        if not deleted.is_success():
            _log.warning(
                "etcd: could not delete %r (%s: %s)",
                key.decode(),
                deleted.status_code().name,
                deleted.details(),
            )

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError("EtcdServiceRegistry is closed")

    def close(self) -> None:
        """Withdraw this registry's registrations, stop its watches and threads; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            subscriptions, self._subscriptions = self._subscriptions, []
        for registration in self._keeper.registrations():
            registration.close()
        self._keeper.stop()
        for subscription in subscriptions:
            subscription.close()
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"EtcdServiceRegistry({self._target!r}, prefix={self._prefix!r}, {state})"


__all__ = [
    "EtcdRegistration",
    "EtcdRegistrationError",
    "EtcdServiceRegistry",
    "EtcdSettingsError",
    "EtcdSubscription",
    "address_in",
    "endpoint_value",
]
