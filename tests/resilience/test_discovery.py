"""Service discovery: registries find targets, the client routes by service name."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from protoreq import (
    ClientClosedError,
    EnvServiceRegistry,
    ServiceDiscoveryGrpcClient,
    ServiceRegistry,
    StaticServiceRegistry,
    UnknownServiceError,
)
from protos import chat_pb2
from tests.resilience.faults import Fault, FaultyUserService, serve_on
from tests.resilience.requests import GetProduct, GetUser, Subscribe
from tests.runtime.conftest import Send
from tests.support.call_log import CallLog
from tests.support.servers import example_services, serve


@pytest.fixture
def users() -> FaultyUserService:
    return FaultyUserService()


@pytest.fixture
def user_target(users: FaultyUserService) -> Iterator[str]:
    with serve_on(users.handlers()) as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture
def catalog_target() -> Iterator[str]:
    with serve(*example_services(CallLog())) as address:
        yield address


def test_requests_are_routed_by_their_service_name(
    send: Send, user_target: str, catalog_target: str, users: FaultyUserService
) -> None:
    registry = StaticServiceRegistry(
        {"user.UserService": user_target, "catalog.ProductService": catalog_target}
    )
    with ServiceDiscoveryGrpcClient(registry) as discovery:
        user = discovery.call(GetUser())
        product = discovery.call(GetProduct())
        assert discovery.get_client("user.UserService").target == user_target
        assert discovery.get_client("catalog.ProductService").target == catalog_target
        via_async = send(discovery.get_client("user.UserService"), GetUser())

    assert user.message().id == "answer-1"
    assert product.message().name == "Laptop"
    assert via_async.is_success()
    assert users.calls == 2


async def test_call_async_routes_too(user_target: str, catalog_target: str) -> None:
    registry = StaticServiceRegistry(
        {"user.UserService": user_target, "catalog.ProductService": catalog_target}
    )
    async with ServiceDiscoveryGrpcClient(registry) as discovery:
        user = await discovery.call_async(GetUser())
        product = await discovery.call_async(GetProduct())

    assert user.is_success()
    assert product.message().id == "prod_123"


def test_services_on_one_target_share_one_client(catalog_target: str) -> None:
    registry = StaticServiceRegistry(
        {"user.UserService": catalog_target, "catalog.ProductService": catalog_target}
    )
    with ServiceDiscoveryGrpcClient(registry) as discovery:
        users = discovery.get_client("user.UserService")
        catalog = discovery.get_client("catalog.ProductService")
        assert users is catalog
        assert discovery.call_service("catalog.ProductService", GetProduct()).is_success()
        assert "1 clients" in repr(discovery)


def test_client_options_apply_to_every_client(user_target: str, users: FaultyUserService) -> None:
    users.faults = [Fault(), Fault()]
    registry = StaticServiceRegistry({"user.UserService": user_target})
    with ServiceDiscoveryGrpcClient(registry, pool_size=2, timeout=5) as discovery:
        response = discovery.call(GetUser())
        assert discovery.call(GetUser()).is_success()

    assert response.attempts() == 3  # the default retry policy, GetUser being NO_SIDE_EFFECTS
    assert len(users.peers()) == 2


def test_unknown_service_is_a_clear_error() -> None:
    registry = StaticServiceRegistry({"user.UserService": "127.0.0.1:1"})
    discovery = ServiceDiscoveryGrpcClient(registry)
    with pytest.raises(UnknownServiceError, match=r"catalog\.ProductService.*user\.UserService"):
        discovery.call(GetProduct())
    discovery.close()


def test_registry_lookup_errors_become_unknown_service() -> None:
    class Consul:
        def discover(self, service_name: str) -> str:
            raise KeyError(service_name)

    registry: ServiceRegistry = Consul()
    assert isinstance(registry, ServiceRegistry)
    with (
        ServiceDiscoveryGrpcClient(registry) as discovery,
        pytest.raises(UnknownServiceError, match=r"user\.UserService"),
    ):
        discovery.get_client("user.UserService")


def test_targets_are_discovered_once_per_service(catalog_target: str) -> None:
    asked: list[str] = []

    class Counting:
        def discover(self, service_name: str) -> str:
            asked.append(service_name)
            return catalog_target

    with ServiceDiscoveryGrpcClient(Counting()) as discovery:
        for _ in range(3):
            assert discovery.call(GetProduct()).is_success()
    assert asked == ["catalog.ProductService"]


def test_closed_discovery_client_refuses_calls(user_target: str) -> None:
    registry = StaticServiceRegistry({"user.UserService": user_target})
    discovery = ServiceDiscoveryGrpcClient(registry)
    client = discovery.get_client("user.UserService")
    discovery.close()
    with pytest.raises(ClientClosedError):
        discovery.call(GetUser())
    with pytest.raises(ClientClosedError):
        client.call(GetUser())  # the clients it made are closed with it


@pytest.mark.parametrize(
    ("service", "variable"),
    [
        ("user.UserService", "USER_SERVICE_URL"),
        ("catalog.ProductService", "PRODUCT_SERVICE_URL"),
        ("acme.v1.HTTPGateway", "HTTP_GATEWAY_URL"),
        ("search.SearchService", "SEARCH_SERVICE_URL"),
        ("Analytics", "ANALYTICS_URL"),
        ("pkg.OAuth2Service", "O_AUTH2_SERVICE_URL"),
    ],
)
def test_env_registry_naming_rule(service: str, variable: str) -> None:
    assert EnvServiceRegistry().variable_name(service) == variable


def test_env_registry_prefix_suffix_and_overrides() -> None:
    registry = EnvServiceRegistry(
        prefix="ACME_",
        suffix="_TARGET",
        overrides={"pkg.OAuth2Service": "OAUTH_URL"},
        environ={"ACME_USER_SERVICE_TARGET": "users:50051", "OAUTH_URL": "dns:///oauth:443"},
    )
    assert registry.discover("user.UserService") == "users:50051"
    assert registry.discover("pkg.OAuth2Service") == "dns:///oauth:443"
    with pytest.raises(UnknownServiceError, match="ACME_PRODUCT_SERVICE_TARGET is not set"):
        registry.discover("catalog.ProductService")
    assert "prefix='ACME_'" in repr(registry)


def test_env_registry_reads_the_process_environment(
    monkeypatch: pytest.MonkeyPatch, user_target: str
) -> None:
    monkeypatch.setenv("USER_SERVICE_URL", user_target)
    monkeypatch.setenv("PRODUCT_SERVICE_URL", "   ")
    with ServiceDiscoveryGrpcClient(EnvServiceRegistry()) as discovery:
        assert discovery.call(GetUser()).is_success()
        with pytest.raises(UnknownServiceError, match="PRODUCT_SERVICE_URL"):
            discovery.call(GetProduct())


def test_registry_answers_may_be_resolver_targets(user_target: str) -> None:
    registry = StaticServiceRegistry({"user.UserService": f"dns:///{user_target}"})
    with ServiceDiscoveryGrpcClient(registry, load_balancing="round_robin") as discovery:
        assert discovery.call(GetUser()).is_success()


def test_discovery_failures_are_responses_once_routed() -> None:
    registry = StaticServiceRegistry({"user.UserService": "127.0.0.1:1"})
    with ServiceDiscoveryGrpcClient(registry, retry=None) as discovery:
        response = discovery.call(GetUser(timeout=2))
    assert response.status_code() is grpc.StatusCode.UNAVAILABLE


def test_registry_validation() -> None:
    with pytest.raises(ValueError, match="empty target"):
        StaticServiceRegistry({"user.UserService": ""})
    with pytest.raises(TypeError, match="discover"):
        ServiceDiscoveryGrpcClient(object())  # type: ignore[arg-type]
    assert "user.UserService" in repr(StaticServiceRegistry({"user.UserService": "a:1"}))


def _chat_handlers() -> list[grpc.GenericRpcHandler]:
    def subscribe(
        request: chat_pb2.SubscribeRequest, context: grpc.ServicerContext
    ) -> Iterator[chat_pb2.ChatMessage]:
        for seq in range(1, request.count + 1):
            yield chat_pb2.ChatMessage(seq=seq, text=request.room)

    return [
        grpc.method_handlers_generic_handler(
            "chat.ChatService",
            {
                "Subscribe": grpc.unary_stream_rpc_method_handler(
                    subscribe,
                    request_deserializer=chat_pb2.SubscribeRequest.FromString,
                    response_serializer=chat_pb2.ChatMessage.SerializeToString,
                )
            },
        )
    ]


async def test_streams_are_routed_too(user_target: str) -> None:
    with serve_on(_chat_handlers()) as port:
        registry = StaticServiceRegistry(
            {"user.UserService": user_target, "chat.ChatService": f"127.0.0.1:{port}"}
        )
        async with ServiceDiscoveryGrpcClient(registry) as discovery:
            stream = discovery.stream(Subscribe(3))
            seqs = [message.seq for message in stream]
            texts = [message.text async for message in discovery.stream_async(Subscribe(2))]

    assert seqs == [1, 2, 3]
    assert stream.is_success()
    assert texts == ["lobby", "lobby"]
