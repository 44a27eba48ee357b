"""Descriptor protos built in Python, the way protoc would send them, for model unit tests.

Type names are fully qualified (``.pkg.Message``) as in a real ``CodeGeneratorRequest``.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import descriptor_pb2 as d
from google.protobuf.compiler import plugin_pb2

F = d.FieldDescriptorProto


def make_field(
    name: str,
    number: int,
    field_type: int = F.TYPE_STRING,
    *,
    type_name: str = "",
    repeated: bool = False,
    oneof_index: int | None = None,
    proto3_optional: bool = False,
    presence: int | None = None,
    required: bool = False,
) -> d.FieldDescriptorProto:
    label = F.LABEL_REQUIRED if required else F.LABEL_OPTIONAL
    field = F(
        name=name,
        number=number,
        type=field_type,  # type: ignore[arg-type]
        label=F.LABEL_REPEATED if repeated else label,
        type_name=type_name,
        proto3_optional=proto3_optional,
    )
    if oneof_index is not None:
        field.oneof_index = oneof_index
    if presence is not None:
        field.options.features.field_presence = presence  # type: ignore[assignment]
    return field


def make_message(
    name: str,
    *fields: d.FieldDescriptorProto,
    nested: Iterable[d.DescriptorProto] = (),
    enums: Iterable[d.EnumDescriptorProto] = (),
    oneofs: Iterable[str] = (),
    map_entry: bool = False,
) -> d.DescriptorProto:
    message = d.DescriptorProto(
        name=name,
        field=fields,
        nested_type=nested,
        enum_type=enums,
        oneof_decl=[d.OneofDescriptorProto(name=oneof) for oneof in oneofs],
    )
    if map_entry:
        message.options.map_entry = True
    return message


def make_map_entry(
    name: str, key_type: int, value_type: int, value_type_name: str = ""
) -> d.DescriptorProto:
    return make_message(
        name,
        make_field("key", 1, key_type),
        make_field("value", 2, value_type, type_name=value_type_name),
        map_entry=True,
    )


def make_enum(name: str, *values: str) -> d.EnumDescriptorProto:
    return d.EnumDescriptorProto(
        name=name,
        value=[d.EnumValueDescriptorProto(name=value, number=i) for i, value in enumerate(values)],
    )


def make_method(
    name: str,
    input_type: str,
    output_type: str,
    *,
    client_streaming: bool = False,
    server_streaming: bool = False,
    idempotency: int | None = None,
    deprecated: bool = False,
) -> d.MethodDescriptorProto:
    method = d.MethodDescriptorProto(
        name=name,
        input_type=input_type,
        output_type=output_type,
        client_streaming=client_streaming,
        server_streaming=server_streaming,
    )
    if idempotency is not None:
        method.options.idempotency_level = idempotency  # type: ignore[assignment]
    if deprecated:
        method.options.deprecated = True
    return method


def make_service(
    name: str, *methods: d.MethodDescriptorProto, deprecated: bool = False
) -> d.ServiceDescriptorProto:
    service = d.ServiceDescriptorProto(name=name, method=methods)
    if deprecated:
        service.options.deprecated = True
    return service


def make_file(
    name: str,
    *,
    package: str = "",
    syntax: str = "proto3",
    messages: Iterable[d.DescriptorProto] = (),
    enums: Iterable[d.EnumDescriptorProto] = (),
    services: Iterable[d.ServiceDescriptorProto] = (),
    dependencies: Iterable[str] = (),
    comments: dict[tuple[int, ...], str] | None = None,
) -> d.FileDescriptorProto:
    file = d.FileDescriptorProto(
        name=name,
        package=package,
        syntax=syntax,
        message_type=messages,
        enum_type=enums,
        service=services,
        dependency=dependencies,
    )
    if syntax == "editions":
        file.edition = d.EDITION_2023
    for path, text in (comments or {}).items():
        file.source_code_info.location.add(path=path, leading_comments=text)
    return file


def make_request(
    *files: d.FileDescriptorProto, generate: Iterable[str] | None = None, parameter: str = ""
) -> plugin_pb2.CodeGeneratorRequest:
    """A request for ``files`` (dependencies first); generates them all unless told otherwise."""
    names = [file.name for file in files] if generate is None else list(generate)
    return plugin_pb2.CodeGeneratorRequest(
        file_to_generate=names, parameter=parameter, proto_file=files
    )
