"""``protoreq describe``: services, methods, messages and enums written back in .proto syntax."""

from __future__ import annotations

from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)

from protoreq.field_labels import is_repeated

_SCALARS = {
    FieldDescriptor.TYPE_DOUBLE: "double",
    FieldDescriptor.TYPE_FLOAT: "float",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_FIXED64: "fixed64",
    FieldDescriptor.TYPE_FIXED32: "fixed32",
    FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_SFIXED32: "sfixed32",
    FieldDescriptor.TYPE_SFIXED64: "sfixed64",
    FieldDescriptor.TYPE_SINT32: "sint32",
    FieldDescriptor.TYPE_SINT64: "sint64",
}

_INDENT = "  "


def describe(symbol: ServiceDescriptor | MethodDescriptor | Descriptor | EnumDescriptor) -> str:
    """The .proto text of ``symbol``, headed by a comment naming what it is."""
    if isinstance(symbol, ServiceDescriptor):
        return f"// service {symbol.full_name} ({symbol.file.name})\n{service_text(symbol)}"
    if isinstance(symbol, MethodDescriptor):
        return f"// method {symbol.containing_service.full_name}.{symbol.name}\n{rpc_line(symbol)}"
    if isinstance(symbol, EnumDescriptor):
        return f"// enum {symbol.full_name} ({symbol.file.name})\n{enum_text(symbol)}"
    return f"// message {symbol.full_name} ({symbol.file.name})\n{message_text(symbol)}"


def rpc_line(method: MethodDescriptor) -> str:
    incoming = "stream " if method.client_streaming else ""
    outgoing = "stream " if method.server_streaming else ""
    return (
        f"rpc {method.name}({incoming}.{method.input_type.full_name}) "
        f"returns ({outgoing}.{method.output_type.full_name});"
    )


def service_text(service: ServiceDescriptor) -> str:
    lines = [f"service {service.name} {{"]
    lines.extend(f"{_INDENT}{rpc_line(method)}" for method in service.methods)
    lines.append("}")
    return "\n".join(lines)


def enum_text(enum: EnumDescriptor, depth: int = 0) -> str:
    pad = _INDENT * depth
    lines = [f"{pad}enum {enum.name} {{"]
    lines.extend(f"{pad}{_INDENT}{value.name} = {value.number};" for value in enum.values)
    lines.append(f"{pad}}}")
    return "\n".join(lines)


def _type_name(field: FieldDescriptor) -> str:
    if field.message_type is not None:
        return f".{field.message_type.full_name}"
    if field.enum_type is not None:
        return f".{field.enum_type.full_name}"
    return _SCALARS[field.type]


def _is_map(field: FieldDescriptor) -> bool:
    message = field.message_type
    return message is not None and message.GetOptions().map_entry


def _field_line(field: FieldDescriptor) -> str:
    entry = field.message_type
    if entry is not None and _is_map(field):
        key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
        kind = f"map<{_type_name(key)}, {_type_name(value)}>"
    elif is_repeated(field):
        kind = f"repeated {_type_name(field)}"
    elif (
        field.has_presence
        and field.message_type is None
        and (field.containing_oneof is None or _is_synthetic(field))
    ):
        kind = f"optional {_type_name(field)}"
    else:
        kind = _type_name(field)
    return f"{kind} {field.name} = {field.number};"


def message_text(message: Descriptor, depth: int = 0) -> str:
    pad = _INDENT * depth
    inner = _INDENT * (depth + 1)
    lines = [f"{pad}message {message.name} {{"]
    for nested in message.nested_types:
        if not nested.GetOptions().map_entry:
            lines.append(message_text(nested, depth + 1))
    lines.extend(enum_text(enum, depth + 1) for enum in message.enum_types)
    written_oneofs: set[str] = set()
    for field in message.fields:
        oneof = field.containing_oneof
        if oneof is not None and not _is_synthetic(field):
            if oneof.name in written_oneofs:
                continue
            written_oneofs.add(oneof.name)
            lines.append(f"{inner}oneof {oneof.name} {{")
            lines.extend(f"{inner}{_INDENT}{_field_line(member)}" for member in oneof.fields)
            lines.append(f"{inner}}}")
            continue
        lines.append(f"{inner}{_field_line(field)}")
    lines.append(f"{pad}}}")
    return "\n".join(lines)


def _is_synthetic(field: FieldDescriptor) -> bool:
    """proto3 ``optional`` fields sit in a one-member oneof named ``_<field>``."""
    oneof = field.containing_oneof
    return oneof is not None and len(oneof.fields) == 1 and oneof.name == f"_{field.name}"
