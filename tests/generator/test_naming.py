"""The naming rules, one by one (see protoreq_generator.naming's docstring)."""

from __future__ import annotations

import keyword

import pytest

from protoreq_generator import naming


@pytest.mark.parametrize(
    ("name", "pascal", "snake"),
    [
        ("GetUser", "GetUser", "get_user"),
        ("get_user", "GetUser", "get_user"),
        ("GetHTTPStatus", "GetHTTPStatus", "get_http_status"),
        ("HTTPGet", "HTTPGet", "http_get"),
        ("GetUserV2", "GetUserV2", "get_user_v2"),
        ("list", "List", "list"),
        ("_private", "Private", "_private"),
    ],
)
def test_case_conversions(name: str, pascal: str, snake: str) -> None:
    assert naming.pascal_case(name) == pascal
    assert naming.snake_case(name) == snake


def test_reserved_table_covers_python_and_the_runtime() -> None:
    assert set(keyword.kwlist) <= naming.PYTHON_KEYWORDS
    assert set(keyword.softkwlist) <= naming.SOFT_KEYWORDS
    for name in ("call", "metadata", "timeout", "message", "messages", "rpc", "self", "cls"):
        assert name in naming.RESERVED
    assert "id" not in naming.RESERVED  # common field names stay as they are


def test_allocate_keeps_free_names_and_escapes_the_rest_in_order() -> None:
    assert naming.allocate(["class", "class_", "name", "name", "__x", "metadata"]) == (
        "class__",
        "class_",
        "name",
        "name_",
        "x_",
        "metadata_",
    )
    assert naming.allocate(["user_pb2", "x"], taken={"user_pb2"}) == ("user_pb2_", "x")


def test_request_class_bases_prefix_every_shared_name() -> None:
    assert naming.request_class_bases(
        [("UserService", ["Get", "Mine"]), ("admin_service", ["get"])]
    ) == (
        ("UserServiceGetGrpcRequest", "MineGrpcRequest"),
        ("AdminServiceGetGrpcRequest",),
    )


def test_modules_follow_protoc() -> None:
    assert naming.pb2_module("a/b/user-v1.proto") == "a.b.user_v1_pb2"
    assert naming.output_path("a/b/user-v1.proto") == "a/b/user_v1_protoreq.py"
    assert naming.protoc_alias("a.b.user_pb2") == "a_dot_b_dot_user__pb2"


def test_module_aliases() -> None:
    assert naming.module_aliases(["a.b.common_pb2", "a.c.common_pb2", "user_pb2"]) == {
        "a.b.common_pb2": "b_common_pb2",
        "a.c.common_pb2": "c_common_pb2",
        "user_pb2": "user_pb2",
    }
    # A short alias that clashes with another module's name: both take protoc's alias.
    assert naming.module_aliases(["b.common_pb2", "c.common_pb2", "x.b_common_pb2"]) == {
        "b.common_pb2": "b_dot_common__pb2",
        "c.common_pb2": "c_common_pb2",
        "x.b_common_pb2": "x_dot_b__common__pb2",
    }
    assert naming.module_aliases(["common_pb2", "a.common_pb2"]) == {
        "common_pb2": "common_pb2",
        "a.common_pb2": "a_common_pb2",
    }


def test_keyword_helpers() -> None:
    assert naming.type_path_needs_alias(("Outer", "class"))
    assert not naming.type_path_needs_alias(("Outer", "match"))
    assert naming.stub_type_path(("Outer", "class")) == ("Outer", "_r_class")
    assert not naming.keyword_safe("__x")
    assert not naming.enum_value_usable("Name")
    assert naming.qualified("", "S") == "S"
    assert naming.qualified("p.q", "S") == "p.q.S"


@pytest.mark.parametrize("order", [("Foo", "AsyncFoo"), ("AsyncFoo", "Foo")])
def test_sync_facades_keep_their_names_whatever_the_order(order: tuple[str, str]) -> None:
    """``Async<Foo>Client`` is service ``AsyncFoo``'s sync facade, never ``Foo``'s async one."""
    _, facades = naming.class_names([(service, ["Get"]) for service in order])
    by_service = dict(zip(order, facades, strict=True))
    assert by_service == {
        "Foo": ("FooClient", "AsyncFooClient_"),
        "AsyncFoo": ("AsyncFooClient", "AsyncAsyncFooClient"),
    }


def test_class_names_settle_requests_and_facades_together() -> None:
    requests, facades = naming.class_names([("Users", ["Get", "Base"]), ("Admin", ["Get"])])
    assert requests == (("UsersGetGrpcRequest", "BaseGrpcRequest_"), ("AdminGetGrpcRequest",))
    assert facades == (("UsersClient", "AsyncUsersClient"), ("AdminClient", "AsyncAdminClient"))
