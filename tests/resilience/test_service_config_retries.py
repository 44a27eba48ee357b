"""One retry layer: a service config's ``retryPolicy`` does not multiply protoreq's attempts."""

from __future__ import annotations

import json

import grpc
import pytest

from protoreq import GrpcClient, RetryPolicy
from protoreq.channel import ChannelSettings
from tests.resilience.faults import Fault, FaultyUserService, serve_on
from tests.resilience.requests import GetUser
from tests.runtime.conftest import Send

THREE = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)

RETRYING_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{"service": "user.UserService"}],
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.01s",
                    "maxBackoff": "0.02s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def test_a_service_config_retry_policy_does_not_multiply_attempts(send: Send) -> None:
    """Before: 3 protoreq attempts x 3 grpcio attempts = 9 at the server, attempts() said 3."""
    service = FaultyUserService(always=Fault())
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(
            f"127.0.0.1:{port}",
            retry=THREE,
            retry_throttle=None,
            options=[("grpc.service_config", RETRYING_SERVICE_CONFIG)],
        ) as client,
    ):
        response = send(client, GetUser())

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.attempts() == 3
    assert service.calls == 3  # what attempts() says, counted at the server


def test_grpcio_retries_are_opt_in_with_enable_retries_and_retry_none(send: Send) -> None:
    service = FaultyUserService(always=Fault())
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(
            f"127.0.0.1:{port}",
            retry=None,
            options=[
                ("grpc.service_config", RETRYING_SERVICE_CONFIG),
                ("grpc.enable_retries", 1),
            ],
        ) as client,
    ):
        response = send(client, GetUser())

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.attempts() == 1  # protoreq's own attempts: grpcio's are its business
    assert service.calls == 3  # grpcio's retryPolicy made them


def test_both_retry_layers_at_once_are_refused() -> None:
    with pytest.raises(ValueError, match=r"grpc.enable_retries=1.*retry=None"):
        GrpcClient("127.0.0.1:1", options=[("grpc.enable_retries", 1)])


def test_grpcio_retries_are_off_on_channels_protoreq_opens() -> None:
    assert dict(ChannelSettings("127.0.0.1:1").grpc_options())["grpc.enable_retries"] == 0
    opted_in = ChannelSettings("127.0.0.1:1", extra_options=(("grpc.enable_retries", 1),))
    assert opted_in.grpc_retries
    assert [value for name, value in opted_in.grpc_options() if name == "grpc.enable_retries"] == [
        1
    ]
