"""Hand-written requests for the resilience tests, with per-request retry and compression."""

from __future__ import annotations

import grpc

from protoreq import (
    USE_CLIENT_DEFAULT,
    BaseGrpcRequest,
    RetryPolicy,
    ServerStreamingGrpcRequest,
    UseClientDefault,
)
from protos import catalog_pb2, chat_pb2, user_pb2


class GetUser(BaseGrpcRequest[user_pb2.GetUserRequest, user_pb2.User]):
    """GetUser is NO_SIDE_EFFECTS in user.proto: the client's default policy covers it."""

    def __init__(
        self,
        user_id: str = "1",
        *,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        retry: RetryPolicy | UseClientDefault | None = USE_CLIENT_DEFAULT,
        compression: grpc.Compression | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> None:
        super().__init__(timeout=timeout)
        self.user_id = user_id
        self._retry = retry
        self._compression = compression

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "GetUser"

    def message(self) -> user_pb2.GetUserRequest:
        return user_pb2.GetUserRequest(user_id=self.user_id)

    def retry_policy(self) -> RetryPolicy | UseClientDefault | None:
        return self._retry

    def compression(self) -> grpc.Compression | UseClientDefault:
        return self._compression


class CreateUser(BaseGrpcRequest[user_pb2.CreateUserRequest, user_pb2.User]):
    """CreateUser has no idempotency option: retried only when the request opts in."""

    def __init__(
        self,
        name: str = "Ana",
        *,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        retry: RetryPolicy | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> None:
        super().__init__(timeout=timeout)
        self.name = name
        self._retry = retry

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "CreateUser"

    def message(self) -> user_pb2.CreateUserRequest:
        return user_pb2.CreateUserRequest(name=self.name, email=f"{self.name.lower()}@example.com")

    def retry_policy(self) -> RetryPolicy | UseClientDefault | None:
        return self._retry


class GetProduct(BaseGrpcRequest[catalog_pb2.GetProductRequest, catalog_pb2.Product]):
    def __init__(self, product_id: str = "prod_123") -> None:
        super().__init__()
        self.product_id = product_id

    def service_name(self) -> str:
        return "catalog.ProductService"

    def method_name(self) -> str:
        return "GetProduct"

    def message(self) -> catalog_pb2.GetProductRequest:
        return catalog_pb2.GetProductRequest(product_id=self.product_id)


class Subscribe(ServerStreamingGrpcRequest[chat_pb2.SubscribeRequest, chat_pb2.ChatMessage]):
    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def service_name(self) -> str:
        return "chat.ChatService"

    def method_name(self) -> str:
        return "Subscribe"

    def message(self) -> chat_pb2.SubscribeRequest:
        return chat_pb2.SubscribeRequest(room="lobby", count=self.count)
