"""Descriptors -> model, from descriptor protos built in Python (no protoc involved)."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2 as d

from protoreq_generator.descriptors import GenerationError, build_files, comment_lines
from protoreq_generator.model import Cardinality, Field, File, Idempotency, Method, Shape
from protoreq_generator.options import GeneratorOptions
from tests.generator.factories import (
    F,
    make_enum,
    make_field,
    make_file,
    make_map_entry,
    make_message,
    make_method,
    make_request,
    make_service,
)

EMPTY = make_message("Empty")


def build_one(*files: d.FileDescriptorProto, facade: bool = True) -> File:
    """The model of the last file (the earlier ones are its dependencies)."""
    request = make_request(*files, generate=[files[-1].name])
    (built,) = build_files(request, GeneratorOptions(facade=facade))
    return built


def unary_file(
    *fields: d.FieldDescriptorProto,
    syntax: str = "proto3",
    nested: tuple[d.DescriptorProto, ...] = (),
    enums: tuple[d.EnumDescriptorProto, ...] = (),
    oneofs: tuple[str, ...] = (),
) -> d.FileDescriptorProto:
    return make_file(
        "a/b/svc.proto",
        package="pkg",
        syntax=syntax,
        messages=[make_message("Req", *fields, nested=nested, enums=enums, oneofs=oneofs), EMPTY],
        services=[make_service("Svc", make_method("Do", ".pkg.Req", ".pkg.Empty"))],
    )


def fields_of(file: File) -> dict[str, Field]:
    return {field.proto_name: field for field in file.methods[0].fields}


def test_file_names_and_imports_follow_protoc() -> None:
    built = build_one(unary_file())
    assert built.output_name == "a/b/svc_protoreq.py"
    assert [(s.package, [(n.name, n.alias) for n in s.names]) for s in built.pb2_imports] == [
        ("a.b", [("svc_pb2", "svc_pb2")])
    ]
    method = built.methods[0]
    assert (method.class_name, method.facade_name) == ("DoGrpcRequest", "do")
    assert (method.request_type, method.response_type) == ("svc_pb2.Req", "svc_pb2.Empty")
    assert built.services[0].full_name == "pkg.Svc"


def test_files_without_services_produce_nothing() -> None:
    types = make_file("types.proto", messages=[EMPTY])
    assert build_files(make_request(types), GeneratorOptions()) == []


def test_proto3_shapes_and_defaults() -> None:
    entry = make_map_entry("CountsEntry", F.TYPE_STRING, F.TYPE_INT64)
    built = build_one(
        unary_file(
            make_field("name", 1),
            make_field("count", 2, F.TYPE_INT32),
            make_field("ratio", 3, F.TYPE_DOUBLE),
            make_field("data", 4, F.TYPE_BYTES),
            make_field("flag", 5, F.TYPE_BOOL),
            make_field("child", 6, F.TYPE_MESSAGE, type_name=".pkg.Empty"),
            make_field("tags", 7, repeated=True),
            make_field(
                "counts", 8, F.TYPE_MESSAGE, type_name=".pkg.Req.CountsEntry", repeated=True
            ),
            make_field("maybe", 9, F.TYPE_INT32, oneof_index=0, proto3_optional=True),
            make_field("either", 10, F.TYPE_STRING, oneof_index=1),
            nested=(entry,),
            oneofs=("_maybe", "choice"),
        )
    )
    fields = fields_of(built)
    assert {name: (f.shape, f.value_type, f.typed) for name, f in fields.items()} == {
        "name": (Shape.PLAIN, "str", True),
        "count": (Shape.PLAIN, "int", True),
        "ratio": (Shape.PLAIN, "float", True),
        "data": (Shape.PLAIN, "bytes", True),
        "flag": (Shape.PLAIN, "bool", True),
        "child": (Shape.OPTIONAL, "svc_pb2.Empty", True),
        "tags": (Shape.REPEATED, "str", True),
        "counts": (Shape.MAP, "int", True),
        "maybe": (Shape.OPTIONAL, "int", True),
        # mypy-protobuf types proto3 oneof scalars without None: passed untyped.
        "either": (Shape.OPTIONAL, "str", False),
    }
    assert fields["counts"].key_type == "str"
    assert "Any" in built.stdlib_imports[1].names
    assert "Iterable" in built.stdlib_imports[0].names


def test_enum_fields_default_to_their_zero_value_by_name() -> None:
    odd = make_enum("Odd", "Name", "OTHER")  # "Name" is the wrapper's method, not the value
    file = unary_file(
        make_field("color", 1, F.TYPE_ENUM, type_name=".pkg.Color"),
        make_field("odd", 2, F.TYPE_ENUM, type_name=".pkg.Req.Odd"),
        make_field("colors", 3, F.TYPE_ENUM, type_name=".pkg.Color", repeated=True),
        enums=(odd,),
    )
    file.enum_type.append(make_enum("Color", "COLOR_UNSPECIFIED", "RED"))
    fields = fields_of(build_one(file))
    assert fields["color"].value_type == "svc_pb2.Color.ValueType"
    assert fields["color"].enum_default == "svc_pb2.Color.COLOR_UNSPECIFIED"
    assert (fields["odd"].shape, fields["odd"].typed) == (Shape.OPTIONAL, False)
    assert fields["colors"].value_type == "svc_pb2.Color.ValueType"


@pytest.mark.parametrize(
    ("syntax", "presence", "shape"),
    [
        ("proto2", None, Shape.OPTIONAL),
        ("editions", None, Shape.OPTIONAL),
        ("editions", d.FeatureSet.EXPLICIT, Shape.OPTIONAL),
        ("editions", d.FeatureSet.IMPLICIT, Shape.PLAIN),
        ("editions", d.FeatureSet.LEGACY_REQUIRED, Shape.REQUIRED),
    ],
)
def test_presence_follows_syntax_and_features(
    syntax: str, presence: int | None, shape: Shape
) -> None:
    built = build_one(
        unary_file(make_field("x", 1, F.TYPE_INT32, presence=presence), syntax=syntax)
    )
    field = fields_of(built)["x"]
    assert (field.shape, field.typed) == (shape, True)


def test_editions_file_level_presence_applies_to_fields() -> None:
    file = unary_file(make_field("x", 1, F.TYPE_INT32), syntax="editions")
    file.options.features.field_presence = d.FeatureSet.IMPLICIT
    assert fields_of(build_one(file))["x"].shape is Shape.PLAIN


def test_editions_implicit_presence_follows_the_stubs() -> None:
    """mypy-protobuf types every implicit-presence field without None (messages too).

    Those that may be None here (not set) go through the untyped mapping; the
    keyword arguments keep the shape they have in proto3, which the file was
    migrated from. A field-level EXPLICIT puts None back in the stub.
    """
    entry = make_map_entry("CountsEntry", F.TYPE_STRING, F.TYPE_INT64)
    file = unary_file(
        make_field("scalar", 1, F.TYPE_INT32),
        make_field("child", 2, F.TYPE_MESSAGE, type_name=".pkg.Empty"),
        make_field("tags", 3, repeated=True),
        make_field("counts", 4, F.TYPE_MESSAGE, type_name=".pkg.Req.CountsEntry", repeated=True),
        make_field("either", 5, oneof_index=0),
        make_field("explicit", 6, F.TYPE_INT32, presence=d.FeatureSet.EXPLICIT),
        make_field(
            "explicit_child",
            7,
            F.TYPE_MESSAGE,
            type_name=".pkg.Empty",
            presence=d.FeatureSet.EXPLICIT,
        ),
        syntax="editions",
        nested=(entry,),
        oneofs=("choice",),
    )
    file.options.features.field_presence = d.FeatureSet.IMPLICIT
    fields = fields_of(build_one(file))
    assert {name: (f.shape, f.typed) for name, f in fields.items()} == {
        "scalar": (Shape.PLAIN, True),
        "child": (Shape.OPTIONAL, False),
        "tags": (Shape.REPEATED, False),
        "counts": (Shape.MAP, False),
        "either": (Shape.OPTIONAL, False),
        "explicit": (Shape.OPTIONAL, True),
        "explicit_child": (Shape.OPTIONAL, True),
    }
    implicit = make_field("child", 2, F.TYPE_MESSAGE, type_name=".pkg.Empty")
    implicit.options.features.field_presence = d.FeatureSet.IMPLICIT
    field = fields_of(build_one(unary_file(implicit, syntax="editions")))["child"]
    assert (field.shape, field.typed) == (Shape.OPTIONAL, False)


def test_required_fields_are_required_arguments() -> None:
    file = unary_file(
        make_field("name", 1, required=True),
        make_field("child", 2, F.TYPE_MESSAGE, type_name=".pkg.Empty", required=True),
        make_field("class", 3, F.TYPE_INT32, required=True),
        make_field("note", 4),
        syntax="proto2",
    )
    fields = fields_of(build_one(file))
    assert {name: (f.shape, f.typed) for name, f in fields.items()} == {
        "name": (Shape.REQUIRED, True),
        "child": (Shape.REQUIRED, True),
        "class": (Shape.REQUIRED, False),
        "note": (Shape.OPTIONAL, True),
    }


def test_oneofs_of_two_or_more_members_are_listed() -> None:
    file = unary_file(
        make_field("maybe", 1, F.TYPE_INT32, oneof_index=0, proto3_optional=True),
        make_field("a", 2, oneof_index=1),
        make_field("class", 3, oneof_index=1),
        make_field("plain", 4),
        make_field("only", 5, oneof_index=2),
        oneofs=("_maybe", "choice", "single"),
    )
    built = build_one(file)
    assert [tuple(oneof) for oneof in built.methods[0].oneofs] == [("choice", ("a", "class_"))]
    assert built.helper_import is not None
    assert built.helper_import.names == ("oneof_conflict",)
    assert build_one(unary_file(make_field("x", 1))).methods[0].oneofs == ()
    assert build_one(unary_file(make_field("x", 1))).helper_import is None


def test_services_without_rpcs_import_only_what_they_use() -> None:
    empty = make_file("e.proto", services=[make_service("Nothing")])
    built = build_one(empty)
    assert [(imp.module, imp.names) for imp in built.stdlib_imports] == [
        ("typing", ("TYPE_CHECKING",))
    ]
    assert built.runtime_import is None  # the facade names GrpcCaller in annotations only
    assert built.annotation_import is not None
    assert built.annotation_import.names == ("GrpcCaller",)
    bare = build_one(empty, facade=False)
    assert (bare.stdlib_imports, bare.runtime_import, bare.pb2_imports) == ((), None, ())
    assert bare.annotation_import is None


def test_facade_names_used_only_in_annotations_are_imported_for_type_checkers() -> None:
    built = build_one(unary_file(make_field("x", 1)))
    assert built.runtime_import is not None
    assert "GrpcResponse" not in built.runtime_import.names
    assert built.annotation_import is not None
    assert built.annotation_import.names == ("GrpcCaller", "GrpcResponse")


def test_escaping_of_field_names() -> None:
    built = build_one(
        unary_file(
            make_field("class", 1),
            make_field("class_", 2),
            make_field("metadata", 3),
            make_field("type", 4),
            make_field("svc_pb2", 5),  # would shadow the module inside __init__
            make_field("DoGrpcRequest", 6),  # would shadow the class inside the facade
            make_field("__private", 7),
            make_field("id", 8),
        )
    )
    fields = fields_of(built)
    assert {name: (f.param, f.typed) for name, f in fields.items()} == {
        "class": ("class__", False),
        "class_": ("class_", True),
        "metadata": ("metadata_", True),
        "type": ("type_", True),
        "svc_pb2": ("svc_pb2_", True),
        "DoGrpcRequest": ("DoGrpcRequest_", True),
        "__private": ("private_", False),
        "id": ("id", True),
    }


def test_services_sharing_a_method_name_both_get_the_prefix() -> None:
    file = make_file(
        "s.proto",
        package="p",
        messages=[EMPTY],
        services=[
            make_service("UserService", make_method("Get", ".p.Empty", ".p.Empty")),
            make_service(
                "AdminService",
                make_method("get", ".p.Empty", ".p.Empty"),
                make_method("List", ".p.Empty", ".p.Empty"),
            ),
        ],
    )
    built = build_one(file)
    assert [m.class_name for m in built.methods] == [
        "UserServiceGetGrpcRequest",
        "AdminServiceGetGrpcRequest",
        "ListGrpcRequest",
    ]
    assert [m.facade_name for m in built.methods] == ["get", "get", "list"]


def test_class_names_avoid_imported_names_and_each_other() -> None:
    file = make_file(
        "s.proto",
        messages=[EMPTY],
        services=[
            make_service(
                "Grpc",
                make_method("Base", ".Empty", ".Empty"),
                make_method("get_user", ".Empty", ".Empty"),
                make_method("GetUser", ".Empty", ".Empty"),
                make_method("Call", ".Empty", ".Empty"),
                make_method("GetHTTPStatus", ".Empty", ".Empty"),
            )
        ],
    )
    built = build_one(file)
    assert [m.class_name for m in built.methods] == [
        "BaseGrpcRequest_",
        "GetUserGrpcRequest",
        "GetUserGrpcRequest_",
        "CallGrpcRequest",
        "GetHTTPStatusGrpcRequest",
    ]
    assert [m.facade_name for m in built.methods] == [
        "base",
        "get_user",
        "get_user_",
        "call_",
        "get_http_status",
    ]
    service = built.services[0]
    assert (service.facade_class, service.async_facade_class, service.full_name) == (
        "GrpcClient_",
        "AsyncGrpcClient",
        "Grpc",
    )


def test_cardinality_idempotency_deprecation_and_comments() -> None:
    file = make_file(
        "s.proto",
        package="p",
        messages=[EMPTY],
        services=[
            make_service(
                "S",
                make_method("A", ".p.Empty", ".p.Empty", idempotency=d.MethodOptions.IDEMPOTENT),
                make_method(
                    "B",
                    ".p.Empty",
                    ".p.Empty",
                    server_streaming=True,
                    idempotency=d.MethodOptions.NO_SIDE_EFFECTS,
                ),
                make_method("C", ".p.Empty", ".p.Empty", client_streaming=True, deprecated=True),
                make_method(
                    "D", ".p.Empty", ".p.Empty", client_streaming=True, server_streaming=True
                ),
            ),
            make_service("Old", make_method("E", ".p.Empty", ".p.Empty"), deprecated=True),
        ],
        comments={(6, 0): " The service.\n", (6, 0, 2, 1): " Streams.\n  Indented.\n\n"},
    )
    built = build_one(file)
    summary = [
        (m.cardinality, m.idempotency, m.deprecated, m.base_class, m.doc) for m in built.methods
    ]
    assert summary == [
        (Cardinality.UNARY_UNARY, Idempotency.IDEMPOTENT, False, "BaseGrpcRequest", ()),
        (
            Cardinality.UNARY_STREAM,
            Idempotency.NO_SIDE_EFFECTS,
            False,
            "ServerStreamingGrpcRequest",
            ("Streams.", " Indented."),
        ),
        (Cardinality.STREAM_UNARY, Idempotency.UNKNOWN, True, "ClientStreamingGrpcRequest", ()),
        (Cardinality.STREAM_STREAM, Idempotency.UNKNOWN, False, "BidiStreamingGrpcRequest", ()),
        (Cardinality.UNARY_UNARY, Idempotency.UNKNOWN, True, "BaseGrpcRequest", ()),
    ]
    assert built.services[0].doc == ("The service.",)
    assert built.methods[2].fields == ()  # streaming requests take messages=, not fields
    assert built.runtime_import is not None
    assert built.annotation_import is not None
    annotated = set(built.annotation_import.names)
    assert annotated == {"GrpcStream", "AsyncGrpcStream", "GrpcResponse", "GrpcCaller"}
    assert not annotated & set(built.runtime_import.names)
    assert built.has_deprecated


def test_facade_off_drops_client_imports() -> None:
    built = build_one(unary_file(), facade=False)
    assert not built.facade
    assert built.runtime_import is not None
    assert "GrpcClient" not in built.runtime_import.names
    assert "GrpcResponse" not in built.runtime_import.names
    assert built.annotation_import is None


def test_cross_file_types_and_same_named_modules() -> None:
    money = make_file("x/types/common.proto", package="x.types", messages=[make_message("Money")])
    tag = make_file("x/other/common.proto", package="x.other", messages=[make_message("Tag")])
    stamp = make_file(
        "google/protobuf/timestamp.proto",
        package="google.protobuf",
        messages=[make_message("Timestamp")],
    )
    svc = make_file(
        "x/svc.proto",
        package="x",
        dependencies=[money.name, tag.name, stamp.name],
        messages=[
            make_message(
                "Req",
                make_field("tag", 1, F.TYPE_MESSAGE, type_name=".x.other.Tag"),
                make_field("at", 2, F.TYPE_MESSAGE, type_name=".google.protobuf.Timestamp"),
            )
        ],
        services=[make_service("S", make_method("Pay", ".x.Req", ".x.types.Money"))],
    )
    built = build_one(money, tag, stamp, svc)
    method = built.methods[0]
    assert method.response_type == "types_common_pb2.Money"
    assert [f.value_type for f in method.fields] == [
        "other_common_pb2.Tag",
        "timestamp_pb2.Timestamp",
    ]
    statements = [(s.package, [(n.name, n.alias) for n in s.names]) for s in built.pb2_imports]
    assert statements == [
        ("google.protobuf", [("timestamp_pb2", "timestamp_pb2")]),
        ("x", [("svc_pb2", "svc_pb2")]),
        ("x.other", [("common_pb2", "other_common_pb2")]),
        ("x.types", [("common_pb2", "types_common_pb2")]),
    ]


def test_keyword_named_types_get_an_alias() -> None:
    file = make_file(
        "k.proto",
        messages=[make_message("class", make_field("def", 1)), EMPTY],
        services=[make_service("K", make_method("Go", ".class", ".Empty"))],
    )
    built = build_one(file)
    (alias,) = built.keyword_aliases
    assert (alias.name, alias.stub_path, alias.runtime_path) == (
        "_k_pb2__class",
        ("_r_class",),
        ("class",),
    )
    assert built.methods[0].request_type == "_k_pb2__class"
    assert "TYPE_CHECKING" in built.stdlib_imports[1].names


def test_top_level_module_and_package_less_service() -> None:
    built = build_one(
        make_file(
            "lonely.proto",
            messages=[EMPTY],
            services=[make_service("Lonely", make_method("Hi", ".Empty", ".Empty"))],
        )
    )
    assert built.services[0].full_name == "Lonely"
    assert [(s.package, s.names[0].name) for s in built.pb2_imports] == [("", "lonely_pb2")]


def test_dashes_and_dots_in_file_names() -> None:
    built = build_one(
        make_file(
            "my-dir/my-file.v1.proto",
            messages=[EMPTY],
            services=[make_service("S", make_method("Hi", ".Empty", ".Empty"))],
        )
    )
    assert built.output_name == "my_dir/my_file/v1_protoreq.py"
    assert [(s.package, s.names[0].name) for s in built.pb2_imports] == [
        ("my_dir.my_file", "v1_pb2")
    ]


def test_keyword_in_module_path_is_an_error() -> None:
    file = make_file(
        "class/x.proto",
        messages=[EMPTY],
        services=[make_service("S", make_method("Hi", ".Empty", ".Empty"))],
    )
    with pytest.raises(GenerationError, match="'class' is a Python keyword"):
        build_one(file)


@pytest.mark.parametrize(
    ("folder", "name", "part"),
    [("2fa", "x.proto", "2fa"), ("ok", "my file.proto", "my file_pb2"), ("v1.2", "x.proto", "2")],
)
def test_paths_that_no_import_can_name_are_errors(folder: str, name: str, part: str) -> None:
    """protoc's own Python output would be written there, but never be importable."""
    own = make_file(
        f"{folder}/{name}",
        messages=[EMPTY],
        services=[make_service("S", make_method("Hi", ".Empty", ".Empty"))],
    )
    with pytest.raises(GenerationError, match=f"{part!r} is not an identifier") as raised:
        build_one(own)
    assert str(raised.value).startswith(f"{folder}/{name}: its Python module would be")
    types = make_file(f"{folder}/{name}", package="t", messages=[make_message("T")])
    user = make_file(
        "user.proto",
        messages=[EMPTY],
        services=[make_service("S", make_method("Hi", ".t.T", ".Empty"))],
        dependencies=[types.name],
    )
    with pytest.raises(GenerationError, match=f"the module of {folder}/{name},") as raised:
        build_one(types, user)
    assert str(raised.value).startswith("user.proto: ")


def test_undefined_type_and_missing_file_are_errors() -> None:
    file = make_file("x.proto", services=[make_service("S", make_method("Hi", ".Nope", ".Nope"))])
    with pytest.raises(GenerationError, match="Nope is not defined"):
        build_one(file)
    with pytest.raises(GenerationError, match="malformed request"):
        build_files(make_request(file, generate=["other.proto"]), GeneratorOptions())


def test_comment_lines() -> None:
    assert comment_lines(" One.\n Two\n   three.\n\n") == ("One.", "Two", "  three.")
    assert comment_lines("") == ()


def test_model_is_frozen() -> None:
    method = build_one(unary_file()).methods[0]
    assert isinstance(method, Method)
    with pytest.raises(AttributeError):
        method.class_name = "X"  # type: ignore[misc]
