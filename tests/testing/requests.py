"""Hand-written, typed requests for the testing-support tests, one per RPC kind."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping

from protoreq import (
    BaseGrpcRequest,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    ServerStreamingGrpcRequest,
)
from protoreq.request import MetadataValue
from protos import chat_pb2, user_pb2


class GetUser(BaseGrpcRequest[user_pb2.GetUserRequest, user_pb2.User]):
    def __init__(
        self, user_id: str, *, metadata: Mapping[str, MetadataValue] | None = None
    ) -> None:
        super().__init__(metadata=metadata)
        self.user_id = user_id

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "GetUser"

    def message(self) -> user_pb2.GetUserRequest:
        return user_pb2.GetUserRequest(user_id=self.user_id)


class AuthenticatedGetUser(GetUser):
    """A subclass: it uses its base class's script unless it has one of its own."""

    def metadata(self) -> dict[str, str]:
        return {**super().metadata(), "authorization": "Bearer secret-token"}


class CreateUser(BaseGrpcRequest[user_pb2.CreateUserRequest, user_pb2.User]):
    def __init__(self, name: str, email: str) -> None:
        super().__init__()
        self.name = name
        self.email = email

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "CreateUser"

    def message(self) -> user_pb2.CreateUserRequest:
        return user_pb2.CreateUserRequest(name=self.name, email=self.email)


class Subscribe(ServerStreamingGrpcRequest[chat_pb2.SubscribeRequest, chat_pb2.ChatMessage]):
    def __init__(self, room: str, count: int = 3) -> None:
        super().__init__()
        self.room = room
        self.count = count

    def service_name(self) -> str:
        return "chat.ChatService"

    def method_name(self) -> str:
        return "Subscribe"

    def message(self) -> chat_pb2.SubscribeRequest:
        return chat_pb2.SubscribeRequest(room=self.room, count=self.count)


class Upload(ClientStreamingGrpcRequest[chat_pb2.ChatMessage, chat_pb2.UploadSummary]):
    def __init__(
        self, messages: Iterable[chat_pb2.ChatMessage] | AsyncIterable[chat_pb2.ChatMessage]
    ) -> None:
        super().__init__()
        self._messages = messages

    def service_name(self) -> str:
        return "chat.ChatService"

    def method_name(self) -> str:
        return "Upload"

    def messages(self) -> Iterable[chat_pb2.ChatMessage] | AsyncIterable[chat_pb2.ChatMessage]:
        return self._messages


class Converse(BidiStreamingGrpcRequest[chat_pb2.ChatMessage, chat_pb2.ChatMessage]):
    def __init__(
        self, messages: Iterable[chat_pb2.ChatMessage] | AsyncIterable[chat_pb2.ChatMessage]
    ) -> None:
        super().__init__()
        self._messages = messages

    def service_name(self) -> str:
        return "chat.ChatService"

    def method_name(self) -> str:
        return "Converse"

    def messages(self) -> Iterable[chat_pb2.ChatMessage] | AsyncIterable[chat_pb2.ChatMessage]:
        return self._messages
