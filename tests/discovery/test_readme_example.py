"""The README's "Discovery with etcd" block, line for line (an excerpt test checks that),
run against the real etcd of this folder's fixture instead of one at 127.0.0.1:2379."""

from __future__ import annotations

import queue

import pytest

from protoreq.discovery import EtcdServiceRegistry
from tests.discovery.etcd_server import EtcdServer


def test_readme_etcd_block(etcd: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    etcd_endpoint = etcd.endpoint  # the README says "127.0.0.1:2379"
    # ---- README.md, "Discovery with etcd" ----
    with EtcdServiceRegistry(etcd_endpoint, prefix="services/") as registry:
        # A server announces itself under a 10 s lease, which the registry keeps alive.
        registration = registry.register("user.UserService", "10.0.0.5:50051", ttl=10)
        print(registry.key("user.UserService", "10.0.0.5:50051"))
        print(registry.discover("user.UserService"))  # one read: the first live address

        # A client follows the list: the whole tuple at first and on every change.
        changes: queue.Queue[tuple[str, ...]] = queue.Queue()
        subscription = registry.subscribe("user.UserService", changes.put)
        print(changes.get(timeout=5))
        registry.register("user.UserService", "10.0.0.6:50051", ttl=10)
        print(changes.get(timeout=5))
        registration.close()  # revokes the lease: etcd deletes the key at once
        print(changes.get(timeout=5))
        subscription.close()
    # ---- end of the README block ----
    assert capsys.readouterr().out.splitlines() == [
        "services/user.UserService/10.0.0.5:50051",
        "10.0.0.5:50051",
        "('10.0.0.5:50051',)",
        "('10.0.0.5:50051', '10.0.0.6:50051')",
        "('10.0.0.6:50051',)",
    ]
    with EtcdServiceRegistry(etcd.endpoint, prefix="services/") as other:
        assert other.addresses("user.UserService") == ()  # close() withdrew 10.0.0.6 too
