"""Dependency wiring: everything the application needs, built from environment variables.

The original design read ``USER_SERVICE_URL`` by hand; here an
:class:`~protoreq.EnvServiceRegistry` derives the variable from the service
name (``user.UserService`` -> ``USER_SERVICE_URL``) and a
:class:`~protoreq.ServiceDiscoveryGrpcClient` sends each request to the target
of its service, with one pooled client per target and the retry policy and
timeout below. Adding a second service is one more environment variable.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TextIO

from examples.api import UserApi
from examples.users import UserGrpcService
from protoreq import (
    EnvServiceRegistry,
    JsonLogFormatter,
    RetryPolicy,
    ServiceDiscoveryGrpcClient,
)

RETRY: Final = RetryPolicy(max_attempts=3, initial_backoff=0.05, max_backoff=0.5)
"""Used for RPCs the proto marks idempotent (GetUser: ``NO_SIDE_EFFECTS``), never CreateUser."""


@dataclass(frozen=True, slots=True)
class Application:
    """The wired application; ``close()`` closes every gRPC channel it opened."""

    api: UserApi
    grpc: ServiceDiscoveryGrpcClient

    def close(self) -> None:
        self.grpc.close()


def build_application(environ: Mapping[str, str]) -> Application:
    """Wire the application from ``environ`` (``os.environ`` in production)."""
    registry = EnvServiceRegistry(environ=environ)
    grpc_client = ServiceDiscoveryGrpcClient(registry, timeout=2.0, retry=RETRY)
    token = environ.get("USER_SERVICE_TOKEN", "dev-token-not-secret")
    users = UserGrpcService(grpc_client, token=lambda: token)
    return Application(api=UserApi(users), grpc=grpc_client)


def configure_logging(stream: TextIO = sys.stderr) -> None:
    """JSON lines on ``stream``: protoreq's one record per call, and the server's own."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
