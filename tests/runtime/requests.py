"""Hand-written, typed requests for the runtime tests (generated ones come from the generator)."""

from __future__ import annotations

from collections.abc import Mapping

from protoreq import USE_CLIENT_DEFAULT, BaseGrpcRequest, GrpcRequest, UseClientDefault
from protoreq.request import MetadataValue
from protos import my_pb2, user_pb2


class GetUser(BaseGrpcRequest[user_pb2.GetUserRequest, user_pb2.User]):
    def __init__(
        self,
        user_id: str,
        *,
        metadata: Mapping[str, MetadataValue] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> None:
        super().__init__(metadata=metadata, timeout=timeout)
        self.user_id = user_id

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "GetUser"

    def message(self) -> user_pb2.GetUserRequest:
        return user_pb2.GetUserRequest(user_id=self.user_id)


class PlainGetUser(GrpcRequest[user_pb2.GetUserRequest, user_pb2.User]):
    """A bare ``GrpcRequest``: no defaults, metadata exactly as given."""

    def __init__(self, user_id: str, metadata: Mapping[str, MetadataValue | None]) -> None:
        self.user_id = user_id
        self._metadata = metadata

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "GetUser"

    def message(self) -> user_pb2.GetUserRequest:
        return user_pb2.GetUserRequest(user_id=self.user_id)

    def metadata(self) -> Mapping[str, MetadataValue | None]:
        return self._metadata


class MyMethod(BaseGrpcRequest[my_pb2.MyRequest, my_pb2.MyResponse]):
    def service_name(self) -> str:
        return "my.Service"

    def method_name(self) -> str:
        return "MyMethod"

    def message(self) -> my_pb2.MyRequest:
        return my_pb2.MyRequest()
