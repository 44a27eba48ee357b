# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# ruff: noqa: PLC0415
"""The original design's "Testing" section, run against protoreq.

``TestUserService`` is the original's code with these adaptations, each forced
by the original being inconsistent or naming things that do not exist:

* the patch target names ``protoreq.GrpcClient.call`` instead of
  ``app.Contexts...GrpcClient.call``; ``GrpcResponse`` and ``grpc`` are imported
  (the original uses ``grpc`` without importing it);
* ``UserGrpcService()`` became ``UserGrpcService(GrpcClient("localhost:50051"))``:
  the original's ``__init__`` requires a client (the client opens no channel
  until a real call, and ``call`` is patched, so nothing connects);
* ``user.name`` / ``user.email`` became ``user["name"]`` / ``user["email"]``:
  the original ``get_user`` returns a dict.

``TestGrpcClientIntegration`` replaces the original's
``grpc_testing.server_from_dictionary(...)`` (not a grpc_testing API, and a
server that would not listen on ``localhost:50051``) with
:func:`protoreq.testing.serve` and the target it yields.
"""

from __future__ import annotations

from unittest.mock import AsyncMock, Mock, patch

import grpc
import pytest

from protoreq import GrpcClient, GrpcResponse
from protoreq.testing import serve
from tests.original.application import UserNotFoundError
from tests.original.design import GetUserGrpcRequest, UserGrpcService
from tests.testing.conftest import GrpcStubs
from tests.testing.test_user_service import UserServicer


# fmt: off
class TestUserService:
    @patch('protoreq.GrpcClient.call')
    def test_get_user_success(self, mock_call):
        # Arrange
        from protos.user_pb2 import User
        user_proto = User(id="123", name="John Doe", email="john@example.com")

        mock_response = Mock(spec=GrpcResponse)
        mock_response.is_success.return_value = True
        mock_response.message.return_value = user_proto
        mock_call.return_value = mock_response

        service = UserGrpcService(GrpcClient("localhost:50051"))

        # Act
        user = service.get_user("123")

        # Assert
        assert user["name"] == "John Doe"
        assert user["email"] == "john@example.com"
        mock_call.assert_called_once()

    @patch('protoreq.GrpcClient.call')
    def test_get_user_not_found(self, mock_call):
        # Arrange
        mock_response = Mock(spec=GrpcResponse)
        mock_response.is_success.return_value = False
        mock_response.status_code.return_value = grpc.StatusCode.NOT_FOUND
        mock_response.details.return_value = "User not found"
        mock_call.return_value = mock_response

        service = UserGrpcService(GrpcClient("localhost:50051"))

        # Act & Assert
        with pytest.raises(UserNotFoundError):
            service.get_user("999")


class TestGrpcClientIntegration:
    def test_real_grpc_call(self, grpc_stubs: GrpcStubs):
        # Setup test server
        with serve((grpc_stubs.user.add_UserServiceServicer_to_server, UserServicer())) as target:

            # Test client
            client = GrpcClient(target)
            try:
                request = GetUserGrpcRequest("123")
                response = client.call(request)

                assert response.is_success()
                user = response.message()
                assert user.id == "123"
            finally:
                client.close()
# fmt: on


# -- beyond the original: what makes those patterns keep working -----------------------------------


def test_the_patched_call_receives_the_request_object() -> None:
    with patch("protoreq.GrpcClient.call") as mock_call:
        mock_call.return_value = Mock(spec=GrpcResponse, **{"is_success.return_value": False})
        mock_call.return_value.status_code.return_value = grpc.StatusCode.NOT_FOUND
        with pytest.raises(UserNotFoundError):
            UserGrpcService(GrpcClient("localhost:50051")).get_user("999")
    [request] = mock_call.call_args.args
    assert isinstance(request, GetUserGrpcRequest)
    assert request.message().user_id == "999"


def test_a_spec_mock_rejects_what_a_response_does_not_have() -> None:
    mock_response = Mock(spec=GrpcResponse)
    with pytest.raises(AttributeError):
        _ = mock_response.is_sucess  # a typo is caught, as the spec intends
    for name in ("is_success", "status_code", "details", "metadata", "message", "trace_id"):
        assert callable(getattr(mock_response, name))


async def test_patching_call_async_gives_an_async_mock() -> None:
    with patch("protoreq.GrpcClient.call_async") as mock_call_async:
        assert isinstance(mock_call_async, AsyncMock)
        mock_call_async.return_value = Mock(spec=GrpcResponse)
        response = await GrpcClient("localhost:50051").call_async(GetUserGrpcRequest("1"))
    assert response is mock_call_async.return_value
