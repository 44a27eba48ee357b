"""Fixtures for the resilience tests: fault-injecting servers and a throwaway PKI."""

from __future__ import annotations

import pytest

from tests.resilience.certs import Pki, make_pki
from tests.runtime.conftest import send

__all__ = ["send"]  # the runtime suite's fixture: every behaviour through call() and call_async()


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki()


@pytest.fixture
def fast_reconnect() -> list[tuple[str, int]]:
    """Channel options that let a client reconnect within ~100 ms of a server coming back."""
    return [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 200)]
