"""Every message and enum of a ``CodeGeneratorRequest``, and the fields of its messages, read once.

Reading an attribute of a descriptor proto builds a Python object each time
(upb), and a large tree has tens of thousands of fields, each needed twice by
:mod:`protoreq_generator.descriptors` (once to learn which ``_pb2`` modules a
file imports, once to build the model). So a message's fields are read here,
on first use, into plain tuples (:class:`RawField`) shared by every file of
the request that uses the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, NamedTuple, TypeAlias

from google.protobuf import descriptor_pb2 as d

F = d.FieldDescriptorProto
FieldType: TypeAlias = d.FieldDescriptorProto.Type.ValueType

SCALAR_TYPES: Final = {
    F.TYPE_DOUBLE: "float",
    F.TYPE_FLOAT: "float",
    F.TYPE_INT64: "int",
    F.TYPE_UINT64: "int",
    F.TYPE_INT32: "int",
    F.TYPE_FIXED64: "int",
    F.TYPE_FIXED32: "int",
    F.TYPE_BOOL: "bool",
    F.TYPE_STRING: "str",
    F.TYPE_BYTES: "bytes",
    F.TYPE_UINT32: "int",
    F.TYPE_SFIXED32: "int",
    F.TYPE_SFIXED64: "int",
    F.TYPE_SINT32: "int",
    F.TYPE_SINT64: "int",
}
MESSAGE_TYPES: Final = frozenset({F.TYPE_MESSAGE, F.TYPE_GROUP})
NAMED_TYPES: Final = MESSAGE_TYPES | {F.TYPE_ENUM}
"""Field types that refer to a message or enum by name."""


class GenerationError(Exception):
    """Input that cannot become valid Python; reported to protoc as the plugin's error."""


class TypeInfo(NamedTuple):
    """Where a message or enum lives: its file and its attribute path inside the ``_pb2`` module.

    A named tuple rather than a dataclass: thousands are made per request.
    """

    file: d.FileDescriptorProto
    parts: tuple[str, ...]
    message: d.DescriptorProto | None = None
    enum: d.EnumDescriptorProto | None = None


class RawField(NamedTuple):
    """One field of a request message, as read from its descriptor (see the module docstring)."""

    name: str
    value_type: FieldType
    """``FieldDescriptorProto.Type`` of one value (for a map: of the map's values)."""
    type_name: str
    """The value's message or enum (``.pkg.Name``), or "" for scalars."""
    repeated: bool
    map_key: str | None
    """For a map, the Python type of its keys (``str``, ``int``, ``bool``); else ``None``."""
    in_oneof: bool
    proto3_optional: bool
    required: bool
    """proto2 ``required`` (editions ``LEGACY_REQUIRED`` is a feature: see ``proto``)."""
    proto: d.FieldDescriptorProto
    """The descriptor itself, for the rare questions (editions features)."""


class TypeIndex:
    """Every message and enum of the request, by fully qualified name (``.pkg.Outer.Inner``)."""

    def __init__(self, files: Iterable[d.FileDescriptorProto]) -> None:
        self._types: dict[str, TypeInfo] = {}
        self._fields: dict[str, tuple[RawField, ...]] = {}
        for file in files:
            prefix = f".{file.package}." if file.package else "."
            self._add(file, prefix, (), file.message_type, file.enum_type)

    def _add(
        self,
        file: d.FileDescriptorProto,
        prefix: str,
        parents: tuple[str, ...],
        messages: Iterable[d.DescriptorProto],
        enums: Iterable[d.EnumDescriptorProto],
    ) -> None:
        for enum in enums:
            self._types[prefix + enum.name] = TypeInfo(file, (*parents, enum.name), enum=enum)
        for message in messages:
            parts = (*parents, message.name)
            self._types[prefix + message.name] = TypeInfo(file, parts, message=message)
            self._add(
                file, f"{prefix}{message.name}.", parts, message.nested_type, message.enum_type
            )

    def get(self, full_name: str) -> TypeInfo:
        found = self._types.get(full_name)
        if found is None:
            raise GenerationError(f"type {full_name.lstrip('.')} is not defined in the request")
        return found

    def has(self, full_name: str) -> bool:
        return full_name in self._types

    def fields(self, message_name: str) -> tuple[RawField, ...]:
        """The fields of a message, read once per request."""
        found = self._fields.get(message_name)
        if found is None:
            message = self.get(message_name).message
            assert message is not None  # protoc checks that rpc types are messages
            found = self._fields[message_name] = tuple(map(self._raw, message.field))
        return found

    def _raw(self, proto: d.FieldDescriptorProto) -> RawField:
        field_type = proto.type
        type_name = proto.type_name if field_type in NAMED_TYPES else ""
        repeated = proto.label == F.LABEL_REPEATED
        map_key: str | None = None
        if repeated and field_type in MESSAGE_TYPES:
            entry = self.get(type_name).message
            if entry is not None and entry.options.map_entry:
                key, value = entry.field[0], entry.field[1]
                map_key = SCALAR_TYPES[key.type]
                field_type = value.type
                type_name = value.type_name if field_type in NAMED_TYPES else ""
        return RawField(
            proto.name,
            field_type,
            type_name,
            repeated,
            map_key,
            not repeated and proto.HasField("oneof_index"),
            proto.proto3_optional,
            proto.label == F.LABEL_REQUIRED,
            proto,
        )
