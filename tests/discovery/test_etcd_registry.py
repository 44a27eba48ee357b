"""EtcdServiceRegistry against a real etcd: register, subscribe (watch + resync), discover.

Waits are bounded and generous where the mechanism allows it (the box is busy); the one
latency the issue pins, an added endpoint seen within a second, is asserted as such.
Lease expiry and the etcd restart take a few seconds each (marked in their docstrings).
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
import threading
import time

import pytest

from protoreq import ClientClosedError, GrpcClient
from protoreq._etcd.rpc_protoreq import LeaseRevokeGrpcRequest, PutGrpcRequest, RangeGrpcRequest
from protoreq.discovery import EtcdServiceRegistry, UnknownServiceError
from protoreq.etcd_registry import EtcdRegistrationError, EtcdSettingsError, address_in
from tests.discovery.etcd_server import EtcdServer
from tests.support.servers import unused_port

A, B, C = "127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"


class Changes:
    """An ``on_change`` that records every list it gets and lets a test wait for one."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, ...]] = []
        self._condition = threading.Condition()

    def __call__(self, addresses: tuple[str, ...]) -> None:
        with self._condition:
            self.seen.append(addresses)
            self._condition.notify_all()

    def wait_for(self, expected: tuple[str, ...], within: float) -> float:
        """Seconds until the latest list was ``expected``; fails after ``within``."""
        start = time.monotonic()
        with self._condition:
            reached = self._condition.wait_for(
                lambda: bool(self.seen) and self.seen[-1] == expected, timeout=within
            )
            assert reached, f"never saw {expected} within {within} s; saw {self.seen}"
        return time.monotonic() - start


def raw_put(endpoint: str, key: str, value: bytes) -> None:
    """A Put by some other etcd client (as a Go service would write)."""
    with GrpcClient(endpoint) as client:
        client.call(PutGrpcRequest(key=key.encode(), value=value)).raise_for_status()


def test_subscribe_follows_registrations(etcd: EtcdServer, prefix: str) -> None:
    with EtcdServiceRegistry(etcd.endpoint, prefix=prefix) as registry:
        first = registry.register("user.UserService", A, ttl=5)
        changes = Changes()
        subscription = registry.subscribe("user.UserService", changes)
        changes.wait_for((A,), within=5)  # the initial read
        added = registry.register("user.UserService", B, ttl=5)
        assert changes.wait_for((A, B), within=1.0) < 1.0  # the issue: "used within a second"
        registry.deregister("user.UserService", A)
        changes.wait_for((B,), within=5)
        added.close()
        changes.wait_for((), within=5)
        subscription.close()
        subscription.close()  # idempotent
        assert first.closed
        assert changes.seen == [(A,), (A, B), (B,), ()]


def test_first_call_is_the_initial_read_even_when_empty(etcd: EtcdServer, prefix: str) -> None:
    with EtcdServiceRegistry(etcd.endpoint, prefix=prefix) as registry:
        changes = Changes()
        registry.subscribe("nobody.Here", changes)
        changes.wait_for((), within=5)
        registry.register("nobody.Here", C, ttl=5)
        changes.wait_for((C,), within=5)


def test_value_layout_is_go_endpoints_and_under_a_lease(etcd: EtcdServer, prefix: str) -> None:
    with EtcdServiceRegistry(etcd.endpoint, prefix=prefix) as registry:
        registration = registry.register("svc", A, ttl=3, metadata={"zone": "a"})
        with GrpcClient(etcd.endpoint) as raw:
            found = raw.call(RangeGrpcRequest(key=f"{prefix}svc/{A}".encode())).message().kvs
        assert len(found) == 1
        assert json.loads(found[0].value) == {"Op": 0, "Addr": A, "Metadata": {"zone": "a"}}
        assert found[0].lease == registration.lease_id != 0
        assert registration.key == f"{prefix}svc/{A}".encode() == registry.key("svc", A).encode()


def test_values_written_the_way_go_writes_them_are_understood(
    etcd: EtcdServer, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = etcd.endpoint
    raw_put(endpoint, f"{prefix}svc/e1", b'{"Op":0,"Addr":"10.0.0.7:8080","Metadata":{"w":2}}')
    raw_put(endpoint, f"{prefix}svc/e2", b'{"Addr":"10.0.0.8:8080"}')  # no Op, no Metadata
    raw_put(endpoint, f"{prefix}svc/e3", b'{"addr":"10.0.0.9:8080"}')  # Go: case-insensitive
    raw_put(endpoint, f"{prefix}svc/junk", b"not json")
    raw_put(endpoint, f"{prefix}svcx/e4", b'{"Addr":"10.0.0.10:8080"}')  # another service
    with EtcdServiceRegistry(endpoint, prefix=prefix) as registry:
        changes = Changes()
        with caplog.at_level(logging.WARNING, logger="protoreq.discovery"):
            registry.subscribe("svc", changes)
            changes.wait_for(("10.0.0.7:8080", "10.0.0.8:8080", "10.0.0.9:8080"), within=5)
        assert registry.discover("svc") == "10.0.0.7:8080"
        assert any("svc/junk" in record.getMessage() for record in caplog.records)
        raw_put(endpoint, f"{prefix}svc/e2", b"{}")  # overwritten with a non-endpoint: gone
        changes.wait_for(("10.0.0.7:8080", "10.0.0.9:8080"), within=5)


def test_address_in_accepts_what_go_reads() -> None:
    assert address_in(b'{"Op":0,"Addr":"h:1","Metadata":null}') == "h:1"
    assert address_in(b'{"ADDR":"h:2"}') == "h:2"
    for not_an_endpoint in (b"", b"[]", b'{"Addr":""}', b'{"Addr":5}', b"\xff", b'"h:1"'):
        assert address_in(not_an_endpoint) is None


def test_an_expired_lease_removes_the_endpoint(etcd: EtcdServer, prefix: str) -> None:
    """A registering process SIGKILLed: its keep-alive stops, etcd expires the key. (~2 s)"""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from protoreq.discovery import EtcdServiceRegistry\n"
            "registry = EtcdServiceRegistry(sys.argv[1], prefix=sys.argv[2])\n"
            "registry.register('svc', sys.argv[3], ttl=1)\n"
            "print('registered', flush=True)\n"
            "time.sleep(60)\n",
            etcd.endpoint,
            prefix,
            A,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "registered"
        with EtcdServiceRegistry(etcd.endpoint, prefix=prefix) as registry:
            changes = Changes()
            registry.subscribe("svc", changes)
            changes.wait_for((A,), within=5)
            time.sleep(1.5)  # beyond the 1 s TTL: the child's keep-alive holds it
            assert changes.seen == [(A,)]
            child.kill()
            child.wait(timeout=10)
            # etcd checks expiry every 500 ms and deletes through raft: TTL + a few seconds.
            changes.wait_for((), within=6)
    finally:
        child.kill()
        child.wait(timeout=10)


def test_a_lease_etcd_dropped_is_replaced(etcd: EtcdServer, prefix: str) -> None:
    """etcd forgot the lease (here: revoked behind our back): the keep-alive writes it again."""
    with EtcdServiceRegistry(etcd.endpoint, prefix=prefix) as registry:
        registration = registry.register("svc", A, ttl=1)
        changes = Changes()
        registry.subscribe("svc", changes)
        changes.wait_for((A,), within=5)
        dropped = registration.lease_id
        with GrpcClient(etcd.endpoint) as raw:
            raw.call(LeaseRevokeGrpcRequest(ID=dropped)).raise_for_status()
        changes.wait_for((), within=5)
        changes.wait_for((A,), within=5)  # the next keep-alive round answers TTL 0: re-granted
        assert registration.lease_id not in (0, dropped)


def test_watch_resyncs_after_an_etcd_restart(own_etcd: EtcdServer, prefix: str) -> None:
    """etcd SIGKILLed and started again on its data dir: the watch reconnects. (~3 s)"""
    with EtcdServiceRegistry(own_etcd.endpoint, prefix=prefix) as registry:
        registry.register("svc", A, ttl=5)
        changes = Changes()
        registry.subscribe("svc", changes)
        changes.wait_for((A,), within=5)
        own_etcd.kill()
        own_etcd.start()
        raw_put(own_etcd.endpoint, f"{prefix}svc/{B}", json.dumps({"Addr": B}).encode())
        changes.wait_for((A, B), within=15)  # reconnect backoff is capped at 2 s
        registry.deregister("svc", A)
        changes.wait_for((B,), within=5)
        # The resync after the restart read the same set: no call for it.
        assert changes.seen == [(A,), (A, B), (B,)]
        assert registry.discover("svc") == B


def test_discover_and_unknown_service(etcd: EtcdServer, prefix: str) -> None:
    with EtcdServiceRegistry(etcd.endpoint, prefix=prefix) as registry:
        registry.register("svc", B, ttl=5)
        registry.register("svc", A, ttl=5)
        assert registry.discover("svc") == A  # the first in key order
        assert registry.addresses("svc") == (A, B)
        with pytest.raises(UnknownServiceError) as raised:
            registry.discover("missing.Service")
    message = str(raised.value)
    assert "'missing.Service'" in message
    assert f"'{prefix}missing.Service/'" in message
    assert etcd.endpoint in message


def test_etcd_out_of_reach() -> None:
    down = f"127.0.0.1:{unused_port()}"
    with EtcdServiceRegistry(down, timeout=1) as registry:
        with pytest.raises(UnknownServiceError, match=rf"etcd at {down} could not list .*UNAVAIL"):
            registry.discover("svc")
        with pytest.raises(EtcdRegistrationError, match=rf"'{A}' for 'svc' in etcd at {down}"):
            registry.register("svc", A)


def test_close_withdraws_registrations_and_stops_callbacks(etcd: EtcdServer, prefix: str) -> None:
    watcher = EtcdServiceRegistry(etcd.endpoint, prefix=prefix)
    changes = Changes()
    subscription = watcher.subscribe("svc", changes)
    changes.wait_for((), within=5)
    announcer = EtcdServiceRegistry(f"http://{etcd.endpoint}", prefix=prefix)
    announcer.register("svc", A, ttl=30)
    changes.wait_for((A,), within=5)
    announcer.close()  # revokes: gone at once, not after 30 s
    changes.wait_for((), within=5)
    with pytest.raises(ClientClosedError):
        announcer.register("svc", A)
    with pytest.raises(ClientClosedError):
        announcer.subscribe("svc", changes)
    subscription.close()
    calls = len(changes.seen)
    raw_put(etcd.endpoint, f"{prefix}svc/{C}", json.dumps({"Addr": C}).encode())
    assert watcher.addresses("svc") == (C,)
    time.sleep(0.3)  # a watch still running would have delivered it by now
    assert len(changes.seen) == calls
    watcher.close()
    watcher.close()  # idempotent
    assert "closed" in repr(watcher)


def test_an_on_change_that_raises_is_logged_and_called_again(
    etcd: EtcdServer, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    changes = Changes()

    def failing_first(addresses: tuple[str, ...]) -> None:
        changes(addresses)
        if len(changes.seen) == 1:
            raise RuntimeError("boom")

    with (
        caplog.at_level(logging.ERROR, logger="protoreq.discovery"),
        EtcdServiceRegistry(etcd.endpoint, prefix=prefix) as registry,
    ):
        registry.subscribe("svc", failing_first)
        changes.wait_for((), within=5)
        registry.register("svc", A, ttl=5)
        changes.wait_for((A,), within=5)
    assert any("on_change" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("ttl", [0, -1, math.nan, math.inf, True, "10"])
def test_bad_ttl(ttl: object) -> None:
    with (
        EtcdServiceRegistry(f"127.0.0.1:{unused_port()}") as registry,
        pytest.raises(EtcdSettingsError, match="ttl must be a positive number"),
    ):
        registry.register("svc", A, ttl=ttl)  # type: ignore[arg-type]


def test_other_misuse_raises_at_once() -> None:
    with EtcdServiceRegistry(f"127.0.0.1:{unused_port()}") as registry:
        with pytest.raises(EtcdSettingsError, match="service_name must be a non-empty"):
            registry.subscribe("", print)
        with pytest.raises(EtcdSettingsError, match="address must be a non-empty"):
            registry.register("svc", "")
        with pytest.raises(EtcdSettingsError, match="JSON"):
            registry.register("svc", A, metadata=object())
        with pytest.raises(EtcdSettingsError, match="on_change must be callable"):
            registry.subscribe("svc", None)  # type: ignore[arg-type]
    with pytest.raises(EtcdSettingsError, match="IPv4"):
        EtcdServiceRegistry(["etcd-1:2379", "etcd-2:2379"])
    with pytest.raises(EtcdSettingsError, match="TLS"):
        EtcdServiceRegistry("https://etcd:2379")
    several = EtcdServiceRegistry(["127.0.0.1:2379", "127.0.0.2:2379"], prefix="p/")
    assert (
        repr(several)
        == "EtcdServiceRegistry('ipv4:127.0.0.1:2379,127.0.0.2:2379', prefix='p/', open)"
    )
    several.close()
