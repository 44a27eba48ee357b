"""protoc's descriptors -> the model: one :class:`~.model.File` per file with services.

Works on the ``FileDescriptorProto`` objects of a ``CodeGeneratorRequest``
(as mypy-protobuf does), never on a descriptor pool, so nothing is imported or
registered and any protoc (or buf) can drive it. Types are resolved across
every file of the request; comments come from ``source_code_info``. Files
without services produce nothing: their messages live in ``_pb2`` only.

How a field becomes a keyword argument follows its presence, and whether it
can be passed to the message's typed constructor follows mypy-protobuf's stub
for that constructor (see :class:`~protoreq_generator.model.Field`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from google.protobuf import descriptor_pb2 as d
from google.protobuf.compiler import plugin_pb2

from protoreq_generator import naming
from protoreq_generator.model import (
    Cardinality,
    Field,
    File,
    Idempotency,
    ImportedName,
    ImportStatement,
    KeywordAlias,
    Method,
    NameImport,
    Service,
    Shape,
)
from protoreq_generator.options import GeneratorOptions

F = d.FieldDescriptorProto

_SCALAR_TYPES = {
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
_MESSAGE_TYPES = frozenset({F.TYPE_MESSAGE, F.TYPE_GROUP})

_IDEMPOTENCY = {
    d.MethodOptions.IDEMPOTENCY_UNKNOWN: Idempotency.UNKNOWN,
    d.MethodOptions.NO_SIDE_EFFECTS: Idempotency.NO_SIDE_EFFECTS,
    d.MethodOptions.IDEMPOTENT: Idempotency.IDEMPOTENT,
}
_CARDINALITY = {
    (False, False): Cardinality.UNARY_UNARY,
    (False, True): Cardinality.UNARY_STREAM,
    (True, False): Cardinality.STREAM_UNARY,
    (True, True): Cardinality.STREAM_STREAM,
}
_BASE_CLASS = {
    Cardinality.UNARY_UNARY: "BaseGrpcRequest",
    Cardinality.UNARY_STREAM: "ServerStreamingGrpcRequest",
    Cardinality.STREAM_UNARY: "ClientStreamingGrpcRequest",
    Cardinality.STREAM_STREAM: "BidiStreamingGrpcRequest",
}

# source_code_info paths: FileDescriptorProto.service = 6, ServiceDescriptorProto.method = 2.
_SERVICE_PATH = 6
_METHOD_PATH = 2


class GenerationError(Exception):
    """Input that cannot become valid Python; reported to protoc as the plugin's error."""


class _TypeInfo(NamedTuple):
    """Where a message or enum lives: its file and its attribute path inside the ``_pb2`` module.

    A named tuple rather than a dataclass: thousands are made per request.
    """

    file: d.FileDescriptorProto
    parts: tuple[str, ...]
    message: d.DescriptorProto | None = None
    enum: d.EnumDescriptorProto | None = None


class _TypeIndex:
    """Every message and enum of the request, by fully qualified name (``.pkg.Outer.Inner``)."""

    def __init__(self, files: Iterable[d.FileDescriptorProto]) -> None:
        self._types: dict[str, _TypeInfo] = {}
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
            self._types[prefix + enum.name] = _TypeInfo(file, (*parents, enum.name), enum=enum)
        for message in messages:
            parts = (*parents, message.name)
            self._types[prefix + message.name] = _TypeInfo(file, parts, message=message)
            self._add(
                file, f"{prefix}{message.name}.", parts, message.nested_type, message.enum_type
            )

    def get(self, full_name: str) -> _TypeInfo:
        found = self._types.get(full_name)
        if found is None:
            raise GenerationError(f"type {full_name.lstrip('.')} is not defined in the request")
        return found


def build_files(request: plugin_pb2.CodeGeneratorRequest, options: GeneratorOptions) -> list[File]:
    """The model of every requested file that has services, in request order."""
    files = {file.name: file for file in request.proto_file}
    unknown = [name for name in request.file_to_generate if name not in files]
    if unknown:
        raise GenerationError(
            f"malformed request: {', '.join(unknown)} listed to generate but not described"
        )
    index = _TypeIndex(request.proto_file)
    return [
        _FileBuilder(files[name], index, options).build()
        for name in request.file_to_generate
        if files[name].service
    ]


def comment_lines(text: str) -> tuple[str, ...]:
    """A leading comment as lines: common indentation removed, blank edges dropped."""
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    indents = [len(line) - len(line.lstrip()) for line in lines if line]
    cut = min(indents, default=0)
    return tuple(line[cut:] for line in lines)


def _syntax(file: d.FileDescriptorProto) -> str:
    return file.syntax or "proto2"


def _explicit_presence(file: d.FileDescriptorProto, proto_field: d.FieldDescriptorProto) -> bool:
    """Editions: the field's ``field_presence`` feature, else the file's, else EXPLICIT."""
    presence = d.FeatureSet.EXPLICIT
    if file.options.features.HasField("field_presence"):
        presence = file.options.features.field_presence
    if proto_field.options.features.HasField("field_presence"):
        presence = proto_field.options.features.field_presence
    return presence != d.FeatureSet.IMPLICIT


@dataclass
class _Imports:
    """The ``_pb2`` modules one file needs, and the name each is known by."""

    modules: set[str] = field(default_factory=set)
    aliases: dict[str, str] = field(default_factory=dict)

    def settle(self) -> None:
        for module in self.modules:
            if naming.module_has_keyword(module):
                raise GenerationError(
                    f"cannot import {module}: a Python keyword in a module path "
                    "cannot be imported (rename the .proto file or its folder)"
                )
        self.aliases = naming.module_aliases(self.modules)

    def statements(self) -> tuple[ImportStatement, ...]:
        plain: list[ImportStatement] = []
        by_package: dict[str, list[ImportedName]] = {}
        for module in sorted(self.modules, key=lambda name: (name.lower(), name)):
            package, _, name = module.rpartition(".")
            imported = ImportedName(name, self.aliases[module])
            if package:
                by_package.setdefault(package, []).append(imported)
            else:
                plain.append(ImportStatement("", (imported,)))
        from_imports: list[ImportStatement] = []
        for package in sorted(by_package, key=lambda name: (name.lower(), name)):
            names = by_package[package]
            combined = tuple(name for name in names if name.alias == name.name)
            if combined:
                from_imports.append(ImportStatement(package, combined))
            from_imports.extend(
                ImportStatement(package, (name,)) for name in names if name.alias != name.name
            )
        return (*plain, *from_imports)


def _isort_key(name: str) -> tuple[int, str]:
    """isort's ``order-by-type``: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return 0, name
    return (1 if name[:1].isupper() else 2), name


def _name_import(module: str, names: Iterable[str]) -> NameImport:
    return NameImport(module, tuple(sorted(set(names), key=_isort_key)))


class _FileBuilder:
    """Builds one :class:`File`; holds the per-file state (imports, aliases, taken names)."""

    def __init__(
        self, file: d.FileDescriptorProto, index: _TypeIndex, options: GeneratorOptions
    ) -> None:
        self.file = file
        self.index = index
        self.options = options
        self.imports = _Imports()
        self.keyword_aliases: dict[str, KeywordAlias] = {}
        self.refs: dict[str, str] = {}
        self.comments = {
            tuple(location.path): comments
            for location in file.source_code_info.location
            if (comments := location.leading_comments)
        }

    # -- types -------------------------------------------------------------------------

    def _referenced_types(self) -> list[str]:
        """Every message and enum the generated code names, in file order."""
        names: list[str] = []
        for service in self.file.service:
            for method in service.method:
                names += (method.input_type, method.output_type)
                if method.client_streaming:
                    continue
                request = self.index.get(method.input_type).message
                assert request is not None  # protoc checks that rpc types are messages
                for proto_field in request.field:
                    names += self._field_type_names(proto_field)
        return names

    def _settle_types(self) -> None:
        """Import every ``_pb2`` module needed and create the keyword aliases, before naming."""
        referenced = set(self._referenced_types())
        files = {self.index.get(type_name).file.name for type_name in referenced}
        for file_name in files:
            self.imports.modules.add(naming.pb2_module(file_name))
        self.imports.settle()
        for type_name in referenced:
            self.ref(type_name)

    def _field_type_names(self, proto_field: d.FieldDescriptorProto) -> list[str]:
        if proto_field.type not in _MESSAGE_TYPES and proto_field.type != F.TYPE_ENUM:
            return []
        info = self.index.get(proto_field.type_name)
        if info.message is not None and info.message.options.map_entry:
            return [
                entry_field.type_name
                for entry_field in info.message.field
                if entry_field.type in _MESSAGE_TYPES or entry_field.type == F.TYPE_ENUM
            ]
        return [proto_field.type_name]

    def ref(self, type_name: str) -> str:
        """The Python expression naming a message or enum class (valid in code and annotations)."""
        found = self.refs.get(type_name)
        if found is None:
            found = self.refs[type_name] = self._new_ref(type_name)
        return found

    def _new_ref(self, type_name: str) -> str:
        info = self.index.get(type_name)
        module_alias = self.imports.aliases[naming.pb2_module(info.file.name)]
        if not naming.type_path_needs_alias(info.parts):
            return naming.dotted(module_alias, *info.parts)
        alias = KeywordAlias(
            name=naming.keyword_alias_name(module_alias, info.parts),
            module_alias=module_alias,
            stub_path=naming.stub_type_path(info.parts),
            runtime_path=info.parts,
        )
        self.keyword_aliases[type_name] = alias
        return alias.name

    def _value_type(self, proto_field: d.FieldDescriptorProto) -> str:
        if proto_field.type in _MESSAGE_TYPES:
            return self.ref(proto_field.type_name)
        if proto_field.type == F.TYPE_ENUM:
            return naming.dotted(self.ref(proto_field.type_name), "ValueType")
        return _SCALAR_TYPES[proto_field.type]

    def _enum_default(self, proto_field: d.FieldDescriptorProto) -> str | None:
        info = self.index.get(proto_field.type_name)
        assert info.enum is not None
        first = info.enum.value[0].name
        if naming.type_path_needs_alias(info.parts) or not naming.enum_value_usable(first):
            return None
        return naming.dotted(self.ref(proto_field.type_name), first)

    # -- fields ------------------------------------------------------------------------

    def _field(
        self, proto_field: d.FieldDescriptorProto, message_file: d.FileDescriptorProto, param: str
    ) -> Field:
        # Each attribute of a descriptor proto is read once: thousands of fields go through here.
        name = proto_field.name
        field_type = proto_field.type
        syntax = _syntax(message_file)
        is_message = field_type in _MESSAGE_TYPES
        key_type: str | None = None
        enum_default: str | None = None
        if proto_field.label == F.LABEL_REPEATED:
            entry = self.index.get(proto_field.type_name).message if is_message else None
            if entry is not None and entry.options.map_entry:
                key_field, value_field = entry.field[0], entry.field[1]
                shape, key_type = Shape.MAP, _SCALAR_TYPES[key_field.type]
                value_type = self._value_type(value_field)
            else:
                shape, value_type = Shape.REPEATED, self._value_type(proto_field)
        else:
            value_type = self._value_type(proto_field)
            if is_message or proto_field.HasField("oneof_index"):
                shape = Shape.OPTIONAL
            elif syntax == "proto3":
                shape = Shape.PLAIN
            elif syntax == "editions":
                explicit = _explicit_presence(message_file, proto_field)
                shape = Shape.OPTIONAL if explicit else Shape.PLAIN
            else:
                shape = Shape.OPTIONAL
        # mypy-protobuf's constructor stub leaves out hard keywords and types proto3 oneof
        # scalars without None; a keyword argument starting with "__" would be mangled.
        typed = naming.keyword_safe(name) and not (
            shape is Shape.OPTIONAL
            and syntax == "proto3"
            and not is_message
            and not proto_field.proto3_optional
        )
        if shape is Shape.PLAIN and field_type == F.TYPE_ENUM:
            enum_default = self._enum_default(proto_field)
            if enum_default is None:
                # The zero value has no usable name: take None ("not set") instead.
                shape, typed = Shape.OPTIONAL, False
        return Field(name, param, shape, value_type, key_type, enum_default, typed)

    def _fields(self, method: d.MethodDescriptorProto, taken: set[str]) -> tuple[Field, ...]:
        if method.client_streaming:
            return ()
        info = self.index.get(method.input_type)
        assert info.message is not None
        proto_fields = list(info.message.field)
        params = naming.allocate([proto_field.name for proto_field in proto_fields], taken)
        return tuple(
            self._field(proto_field, info.file, param)
            for proto_field, param in zip(proto_fields, params, strict=True)
        )

    # -- services ----------------------------------------------------------------------

    def _doc(self, *path: int) -> tuple[str, ...]:
        return comment_lines(self.comments.get(path, ""))

    def _class_names(self) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, str], ...]]:
        """Request class names per service and facade class names, settled together."""
        wanted = naming.request_class_bases(
            [
                (service.name, [method.name for method in service.method])
                for service in self.file.service
            ]
        )
        flat = [name for names in wanted for name in names]
        facades = [
            name
            for service in self.file.service
            for name in naming.facade_class_names(service.name)
        ]
        settled = iter(naming.allocate([*flat, *facades]))
        requests = tuple(tuple(next(settled) for _ in names) for names in wanted)
        facade_pairs = tuple((next(settled), next(settled)) for _ in self.file.service)
        return requests, facade_pairs

    def build(self) -> File:
        self._settle_types()
        request_names, facade_names = self._class_names()
        module_level = {
            *self.imports.aliases.values(),
            *(alias.name for alias in self.keyword_aliases.values()),
            *(name for names in request_names for name in names),
            *(name for pair in facade_names for name in pair),
        }
        services = tuple(
            Service(
                proto_name=service.name,
                full_name=naming.qualified(self.file.package, service.name),
                facade_class=facade_names[s][0],
                async_facade_class=facade_names[s][1],
                doc=self._doc(_SERVICE_PATH, s),
                deprecated=service.options.deprecated,
                methods=self._methods(s, service, request_names[s], module_level),
            )
            for s, service in enumerate(self.file.service)
        )
        return self._file(services)

    def _methods(
        self,
        s: int,
        service: d.ServiceDescriptorProto,
        class_names: Sequence[str],
        module_level: set[str],
    ) -> tuple[Method, ...]:
        facade_names = naming.allocate(
            [naming.snake_case(method.name) for method in service.method], module_level
        )
        methods = []
        for m, method in enumerate(service.method):
            cardinality = _CARDINALITY[method.client_streaming, method.server_streaming]
            methods.append(
                Method(
                    proto_name=method.name,
                    class_name=class_names[m],
                    facade_name=facade_names[m],
                    base_class=_BASE_CLASS[cardinality],
                    cardinality=cardinality,
                    idempotency=_IDEMPOTENCY.get(
                        method.options.idempotency_level, Idempotency.UNKNOWN
                    ),
                    request_type=self.ref(method.input_type),
                    response_type=self.ref(method.output_type),
                    fields=self._fields(method, module_level),
                    doc=self._doc(_SERVICE_PATH, s, _METHOD_PATH, m),
                    deprecated=method.options.deprecated or service.options.deprecated,
                )
            )
        return tuple(methods)

    def _file(self, services: tuple[Service, ...]) -> File:
        methods = [method for service in services for method in service.methods]
        abc = {"Mapping"}
        typing = {"ClassVar"}
        runtime = {
            "USE_CLIENT_DEFAULT",
            "UseClientDefault",
            "RpcMethod",
            "Cardinality",
            "Idempotency",
        }
        for method in methods:
            runtime.add(method.runtime_base)
            if method.cardinality.streams_requests:
                abc.update(("Iterable", "AsyncIterable"))
            if any(f.shape is Shape.REPEATED for f in method.fields):
                abc.add("Iterable")
            if method.untyped_fields:
                typing.add("Any")
        if self.keyword_aliases:
            typing.add("TYPE_CHECKING")
        if self.options.facade:
            runtime.add("GrpcCaller")
            for method in methods:
                if method.cardinality.streams_responses:
                    runtime.update(("GrpcStream", "AsyncGrpcStream"))
                else:
                    runtime.add("GrpcResponse")
        return File(
            proto_name=self.file.name,
            output_name=naming.output_path(self.file.name),
            stdlib_imports=(
                _name_import("collections.abc", abc),
                _name_import("typing", typing),
            ),
            runtime_import=_name_import("protoreq", runtime),
            pb2_imports=self.imports.statements(),
            keyword_aliases=tuple(
                sorted(self.keyword_aliases.values(), key=lambda alias: alias.name)
            ),
            services=services,
            facade=self.options.facade,
        )
