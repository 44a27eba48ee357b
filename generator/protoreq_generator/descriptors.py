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
from typing import cast

from google.protobuf import descriptor_pb2 as d
from google.protobuf.compiler import plugin_pb2

from protoreq_generator import naming
from protoreq_generator.index import (
    MESSAGE_TYPES,
    SCALAR_TYPES,
    FieldType,
    GenerationError,
    RawField,
    TypeIndex,
)
from protoreq_generator.model import (
    Cardinality,
    Field,
    File,
    Idempotency,
    ImportedName,
    ImportStatement,
    KeywordAlias,
    LongRunning,
    Method,
    NameImport,
    Oneof,
    Pagination,
    Service,
    Shape,
)
from protoreq_generator.options import GeneratorOptions

__all__ = ["GenerationError", "build_files", "comment_lines"]

F = d.FieldDescriptorProto
_SCALAR_TYPES = SCALAR_TYPES
_MESSAGE_TYPES = MESSAGE_TYPES

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

_OPERATION = ".google.longrunning.Operation"

# source_code_info paths: FileDescriptorProto.service = 6, ServiceDescriptorProto.method = 2.
_SERVICE_PATH = 6
_METHOD_PATH = 2


def build_files(request: plugin_pb2.CodeGeneratorRequest, options: GeneratorOptions) -> list[File]:
    """The model of every requested file that has services, in request order."""
    files = {file.name: file for file in request.proto_file}
    unknown = [name for name in request.file_to_generate if name not in files]
    if unknown:
        raise GenerationError(
            f"malformed request: {', '.join(unknown)} listed to generate but not described"
        )
    index = TypeIndex(request.proto_file)
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


def _presence(
    file: d.FileDescriptorProto, proto_field: d.FieldDescriptorProto
) -> d.FeatureSet.FieldPresence.ValueType:
    """Editions: the field's ``field_presence`` feature, else the file's, else EXPLICIT.

    Message-level features are not read: mypy-protobuf's stubs do not read them
    either, and the constructor types must agree with the stubs.
    """
    presence = d.FeatureSet.EXPLICIT
    if file.options.features.HasField("field_presence"):
        presence = file.options.features.field_presence
    if proto_field.options.features.HasField("field_presence"):
        presence = proto_field.options.features.field_presence
    return presence


@dataclass
class _Imports:
    """The ``_pb2`` modules one file needs, and the name each is known by."""

    modules: set[str] = field(default_factory=set)
    aliases: dict[str, str] = field(default_factory=dict)

    def settle(self) -> None:
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


def _singular(raw: RawField | None, field_type: FieldType) -> bool:
    """Whether ``raw`` is a field of ``field_type`` holding one value."""
    return raw is not None and not raw.repeated and raw.value_type == field_type


def _check_importable(generating: str, proto_name: str) -> None:
    """Refuse a .proto whose Python module no ``import`` statement can name.

    protoc's own Python generator writes such a ``_pb2.py`` (``2fa/x_pb2.py``)
    without complaint, but neither it nor a protoreq module beside it could be
    imported, and an ``import`` of it would be a SyntaxError: so this is an
    error, reported before anything is written.
    """
    module = naming.pb2_module(proto_name)
    part = naming.unimportable_part(module)
    if part is None:
        return
    what = "its" if proto_name == generating else f"the module of {proto_name},"
    reason = "is a Python keyword" if part in naming.PYTHON_KEYWORDS else "is not an identifier"
    raise GenerationError(
        f"{generating}: {what} Python module would be {module}, which no import can name "
        f"({part!r} {reason}); rename the folder or file (letters, digits "
        "and _ only, not starting with a digit; - is allowed in file names) or pass an "
        "include path (-I) below the offending folder"
    )


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
        self, file: d.FileDescriptorProto, index: TypeIndex, options: GeneratorOptions
    ) -> None:
        self.file = file
        self.index = index
        self.options = options
        self.imports = _Imports()
        self.keyword_aliases: dict[str, KeywordAlias] = {}
        self.refs: dict[str, str] = {}
        self.enum_defaults: dict[str, str | None] = {}
        self.params: dict[tuple[str, ...], tuple[str, ...]] = {}
        """Keyword argument names by field names: request messages often share their fields."""
        self.known_fields: dict[tuple[object, ...], Field] = {}
        """Fields already modelled, by what decides their model (same name, type, presence)."""
        self.comments = {
            tuple(location.path): comments
            for location in file.source_code_info.location
            if (comments := location.leading_comments)
        }

    # -- types -------------------------------------------------------------------------

    def _referenced_types(self) -> list[str]:
        """Every message and enum the generated code names, in file order."""
        names: list[str] = []
        fields_of = self.index.fields
        for service in self.file.service:
            for method in service.method:
                input_type = method.input_type
                names += (input_type, method.output_type)
                if method.client_streaming:
                    continue
                names += [raw.type_name for raw in fields_of(input_type) if raw.type_name]
                results = self._results_field(method)
                if results is not None:  # a list method's pager names its item type
                    names.append(results.type_name)
                names += self._operation_info(method)
        return names

    def _settle_types(self) -> None:
        """Import every ``_pb2`` module needed and create the keyword aliases, before naming."""
        referenced = set(self._referenced_types())
        files = {self.index.get(type_name).file.name for type_name in referenced}
        _check_importable(self.file.name, self.file.name)
        for file_name in sorted(files):
            _check_importable(self.file.name, file_name)
            self.imports.modules.add(self.options.pb2_module(file_name))
        self.imports.settle()
        for type_name in referenced:
            self.ref(type_name)

    def ref(self, type_name: str) -> str:
        """The Python expression naming a message or enum class (valid in code and annotations)."""
        found = self.refs.get(type_name)
        if found is None:
            found = self.refs[type_name] = self._new_ref(type_name)
        return found

    def _new_ref(self, type_name: str) -> str:
        info = self.index.get(type_name)
        module_alias = self.imports.aliases[self.options.pb2_module(info.file.name)]
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

    def _value_type(self, field_type: FieldType, type_name: str) -> str:
        if field_type in _MESSAGE_TYPES:
            return self.ref(type_name)
        if field_type == F.TYPE_ENUM:
            return self.options.enum_value_type(self.ref(type_name))
        return _SCALAR_TYPES[field_type]

    def _enum_default(self, type_name: str) -> str | None:
        if type_name in self.enum_defaults:
            return self.enum_defaults[type_name]
        info = self.index.get(type_name)
        assert info.enum is not None
        first = info.enum.value[0].name
        found = None
        if not naming.type_path_needs_alias(info.parts) and naming.enum_value_usable(first):
            found = naming.dotted(self.ref(type_name), first)
        self.enum_defaults[type_name] = found
        return found

    # -- fields ------------------------------------------------------------------------

    def _field(
        self, raw: RawField, message_file: d.FileDescriptorProto, syntax: str, param: str
    ) -> Field:
        name, field_type, type_name, repeated, map_key, in_oneof, proto3_optional, required, _ = raw
        is_message = field_type in _MESSAGE_TYPES
        enum_default: str | None = None
        scalar = _SCALAR_TYPES.get(field_type)
        value_type = scalar if scalar is not None else self._value_type(field_type, type_name)
        implicit = False
        if syntax == "editions":
            presence = _presence(message_file, raw.proto)
            implicit = presence == d.FeatureSet.IMPLICIT
            required = presence == d.FeatureSet.LEGACY_REQUIRED
        if map_key is not None:
            shape = Shape.MAP
        elif repeated:
            shape = Shape.REPEATED
        elif required:
            shape = Shape.REQUIRED
        elif is_message or in_oneof:
            shape = Shape.OPTIONAL
        elif syntax == "proto3" or implicit:
            shape = Shape.PLAIN
        else:
            shape = Shape.OPTIONAL
        # mypy-protobuf's constructor stub (its rule, exactly) types without None every
        # proto3 singular scalar that is not `optional`, and in editions every field whose
        # presence (the field's feature, else the file's) is IMPLICIT; it leaves out hard
        # keywords. An argument that may be None cannot be passed to such a parameter; and
        # a keyword argument starting with "__" would be mangled.
        stub_without_none = implicit or (
            syntax == "proto3" and not is_message and not repeated and not proto3_optional
        )
        typed = naming.keyword_safe(name) and not (
            stub_without_none and shape is not Shape.PLAIN and shape is not Shape.REQUIRED
        )
        if shape is Shape.PLAIN and field_type == F.TYPE_ENUM:
            enum_default = self._enum_default(type_name)
            if enum_default is None:
                # The zero value has no usable name: take None ("not set") instead.
                shape, typed = Shape.OPTIONAL, False
        return Field(name, param, shape, value_type, map_key, enum_default, typed)

    def _fields(self, method: d.MethodDescriptorProto, taken: set[str]) -> tuple[Field, ...]:
        input_type = method.input_type
        raws = self.index.fields(input_type)
        names = tuple(raw.name for raw in raws)
        params = self.params.get(names)
        if params is None:  # `taken` is the same for every method of the file
            params = self.params[names] = naming.allocate(names, taken)
        file = self.index.get(input_type).file
        syntax = _syntax(file)
        if syntax == "editions":  # presence may come from the field's own features
            return tuple(
                self._field(raw, file, syntax, param)
                for raw, param in zip(raws, params, strict=True)
            )
        fields = []
        known = self.known_fields
        for raw, param in zip(raws, params, strict=True):
            key = (raw[:8], param, syntax)  # everything _field reads, but the descriptor itself
            found = known.get(key)
            if found is None:
                found = known[key] = self._field(raw, file, syntax, param)
            fields.append(found)
        return tuple(fields)

    def _oneofs(
        self, method: d.MethodDescriptorProto, fields: tuple[Field, ...]
    ) -> tuple[Oneof, ...]:
        """The request message's oneofs of two or more members (proto3 ``optional`` is not one)."""
        raws = self.index.fields(method.input_type)
        members: dict[int, list[str]] = {}
        for raw, one in zip(raws, fields, strict=True):
            if raw.in_oneof and not raw.proto3_optional:
                members.setdefault(raw.proto.oneof_index, []).append(one.param)
        if not members:
            return ()
        message = self.index.get(method.input_type).message
        assert message is not None
        return tuple(
            Oneof(message.oneof_decl[index].name, tuple(params))
            for index, params in sorted(members.items())
            if len(params) > 1
        )

    # -- patterns ----------------------------------------------------------------------

    def _results_field(self, method: d.MethodDescriptorProto) -> RawField | None:
        """The results field of an AIP-158 list method (see :class:`Pagination`), else ``None``."""
        if method.client_streaming or method.server_streaming:
            return None
        request = {raw.name: raw for raw in self.index.fields(method.input_type)}
        if not (
            _singular(request.get("page_size"), F.TYPE_INT32)
            and _singular(request.get("page_token"), F.TYPE_STRING)
        ):
            return None
        response = self.index.fields(method.output_type)
        if not any(
            raw.name == "next_page_token" and _singular(raw, F.TYPE_STRING) for raw in response
        ):
            return None
        results = [
            raw
            for raw in response
            if raw.repeated and raw.map_key is None and raw.value_type in _MESSAGE_TYPES
        ]
        if not results:
            return None
        first = results[0]
        if first.proto.number != min(raw.proto.number for raw in results):
            return None  # AIP-4233: position and field number disagree; do not guess
        return first

    def _operation_info(self, method: d.MethodDescriptorProto) -> tuple[str, ...]:
        """``(result, metadata)`` type names of an AIP-151 method, else ``()``.

        Names in ``operation_info`` are relative to the file's package or fully
        qualified; one that names no message of the request leaves the method
        answering a plain ``Operation`` (as for methods without the option).
        """
        if method.output_type != _OPERATION or method.server_streaming:
            return ()
        from google.longrunning import operations_proto_pb2 as lro  # noqa: PLC0415  # LRO only

        options = d.MethodOptions.FromString(method.options.SerializeToString())
        if not options.HasExtension(lro.operation_info):
            return ()
        info = options.Extensions[lro.operation_info]
        found = tuple(
            self._message_named(name) for name in (info.response_type, info.metadata_type)
        )
        return () if None in found else cast(tuple[str, ...], found)

    def _message_named(self, name: str) -> str | None:
        candidates = [f".{name}"]
        if self.file.package:
            candidates.insert(0, f".{self.file.package}.{name}")
        for candidate in candidates:
            if name and self.index.has(candidate):
                return candidate
        return None

    def _long_running(self, method: d.MethodDescriptorProto) -> LongRunning | None:
        names = self._operation_info(method)
        if not names:
            return None
        return LongRunning(self.ref(names[0]), self.ref(names[1]))

    def _pagination(self, method: d.MethodDescriptorProto) -> Pagination | None:
        results = self._results_field(method)
        if results is None:
            return None
        return Pagination(results.name, self.ref(results.type_name))

    # -- services ----------------------------------------------------------------------

    def _doc(self, *path: int) -> tuple[str, ...]:
        text = self.comments.get(path)
        return comment_lines(text) if text else ()

    def _class_names(self) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, str], ...]]:
        """Request class names per service and facade class names, settled together."""
        return naming.class_names(
            [
                (service.name, [method.name for method in service.method])
                for service in self.file.service
            ]
        )

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
        protos = list(service.method)
        names = [method.name for method in protos]
        facade_names = naming.allocate([naming.snake_case(name) for name in names], module_level)
        service_deprecated = service.options.deprecated
        methods = []
        for m, method in enumerate(protos):
            streams_requests = method.client_streaming
            cardinality = _CARDINALITY[streams_requests, method.server_streaming]
            options = method.options
            fields = () if streams_requests else self._fields(method, module_level)
            methods.append(
                Method(
                    names[m],
                    class_names[m],
                    facade_names[m],
                    _BASE_CLASS[cardinality],
                    cardinality,
                    _IDEMPOTENCY.get(options.idempotency_level, Idempotency.UNKNOWN),
                    self.ref(method.input_type),
                    self.ref(method.output_type),
                    fields,
                    self._doc(_SERVICE_PATH, s, _METHOD_PATH, m),
                    options.deprecated or service_deprecated,
                    self._oneofs(method, fields) if fields else (),
                    self._pagination(method),
                    self._long_running(method),
                )
            )
        return tuple(methods)

    def _file(self, services: tuple[Service, ...]) -> File:
        methods = [method for service in services for method in service.methods]
        abc: set[str] = set()
        typing: set[str] = set()
        runtime: set[str] = set()
        helpers: set[str] = set()
        if methods:  # what every request class spells
            abc.add("Mapping")
            typing.add("ClassVar")
            runtime.update(
                (
                    "USE_CLIENT_DEFAULT",
                    "UseClientDefault",
                    "RpcMethod",
                    "Cardinality",
                    "Idempotency",
                )
            )
        seen_fields: set[tuple[Field, ...]] = set()
        for method in methods:
            runtime.add(method.runtime_base)
            if method.cardinality.streams_requests:
                abc.update(("Iterable", "AsyncIterable"))
            if method.oneofs:
                helpers.add("oneof_conflict")
            if method.deprecated and self.options.facade:
                helpers.add("construct_quietly")
            fields = method.fields
            if fields in seen_fields:
                continue
            seen_fields.add(fields)
            for one in fields:
                if one.shape is Shape.REPEATED:
                    abc.add("Iterable")
                if not one.typed:
                    typing.add("Any")
        annotations: set[str] = set()  # spelt only in annotations: imported for type checkers
        if self.options.facade and services:
            annotations.add("GrpcCaller")
            for method in methods:
                if method.cardinality.streams_responses:
                    annotations.update(("GrpcStream", "AsyncGrpcStream"))
                else:
                    annotations.add("GrpcResponse")
                if method.pagination is not None:
                    runtime.update(("Pager", "AsyncPager"))
        if self.keyword_aliases or annotations:
            typing.add("TYPE_CHECKING")
        if any(method.operation is not None for method in methods):
            runtime.add("OperationTypes")
        stdlib = (_name_import("collections.abc", abc), _name_import("typing", typing))
        return File(
            proto_name=self.file.name,
            output_name=naming.output_path(self.file.name),
            stdlib_imports=tuple(imported for imported in stdlib if imported.names),
            runtime_import=_name_import("protoreq", runtime) if runtime else None,
            helper_import=_name_import("protoreq.generated", helpers) if helpers else None,
            annotation_import=_name_import("protoreq", annotations) if annotations else None,
            pb2_imports=self.imports.statements(),
            keyword_aliases=tuple(
                sorted(self.keyword_aliases.values(), key=lambda alias: alias.name)
            ),
            services=services,
            facade=self.options.facade,
        )
