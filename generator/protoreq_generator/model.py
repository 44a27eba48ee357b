"""What one generated module contains, with every Python name already decided.

:mod:`protoreq_generator.descriptors` builds it from protoc's descriptors and
the templates render it. It knows neither protobuf descriptor classes nor
Jinja, so each side can change alone and tests can build a model by hand.
Type references (``user_pb2.User``) are plain strings computed by
:mod:`protoreq_generator.naming`; the templates compose them into code. The
enums are string enums so templates compare and print them without ``.value``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple


class Cardinality(enum.StrEnum):
    """How many messages travel each way; values are the runtime's ``Cardinality`` members."""

    UNARY_UNARY = "UNARY_UNARY"
    UNARY_STREAM = "UNARY_STREAM"
    STREAM_UNARY = "STREAM_UNARY"
    STREAM_STREAM = "STREAM_STREAM"

    @property
    def streams_requests(self) -> bool:
        return self in (Cardinality.STREAM_UNARY, Cardinality.STREAM_STREAM)

    @property
    def streams_responses(self) -> bool:
        return self in (Cardinality.UNARY_STREAM, Cardinality.STREAM_STREAM)


class Idempotency(enum.StrEnum):
    """The method's ``idempotency_level``; values are the runtime's ``Idempotency`` members."""

    UNKNOWN = "UNKNOWN"
    NO_SIDE_EFFECTS = "NO_SIDE_EFFECTS"
    IDEMPOTENT = "IDEMPOTENT"


class Shape(enum.StrEnum):
    """How a field appears as a keyword argument."""

    PLAIN = "plain"
    """No presence: ``name: T = <zero>``."""
    REQUIRED = "required"
    """proto2 ``required`` (editions ``LEGACY_REQUIRED``): ``name: T``, no default."""
    OPTIONAL = "optional"
    """Has presence (message, oneof, ``optional``, editions explicit): ``T | None = None``."""
    REPEATED = "repeated"
    """``Iterable[T] | None = None``."""
    MAP = "map"
    """``Mapping[K, T] | None = None``."""


GENERATED_BASES = {
    "BaseGrpcRequest": "GeneratedGrpcRequest",
    "ServerStreamingGrpcRequest": "GeneratedServerStreamingGrpcRequest",
    "ClientStreamingGrpcRequest": "GeneratedClientStreamingGrpcRequest",
    "BidiStreamingGrpcRequest": "GeneratedBidiStreamingGrpcRequest",
}
"""Request kind -> the runtime base of generated classes of that kind (``protoreq.generated``).

Each is a subclass of its kind that answers ``service_name()``, ``method_name()`` and
``message()``/``messages()`` (and ``from_message()``), so generated classes need not.
"""

PAGINATED_BASE = "GeneratedPaginatedGrpcRequest"
"""The base of AIP-158 list methods: a ``GeneratedGrpcRequest`` typed by its result too."""


class Field(NamedTuple):
    """One field of a request message, as a keyword argument of the generated constructor.

    A named tuple rather than a frozen dataclass: tens of thousands are made for a
    large tree, and templates unpack them in their ``for`` loops instead of
    reading attributes one by one (each a call in Jinja).
    """

    proto_name: str
    """The field's name in the message (the keyword the message constructor takes)."""
    param: str
    """The keyword argument's name in generated signatures (escaped ``proto_name``)."""
    shape: Shape
    value_type: str
    """Python type of one value: ``str``, ``user_pb2.User``, ``user_pb2.Color.ValueType``..."""
    key_type: str | None = None
    """Map key type (``str``, ``int`` or ``bool``); maps only."""
    enum_default: str | None = None
    """For a plain enum field, its zero value (``user_pb2.Color.COLOR_UNSPECIFIED``)."""
    typed: bool = True
    """Whether the message's typed constructor (mypy-protobuf stub) takes the argument as is.

    False for names the stub leaves out (hard keywords) and for values the stub
    types without ``None`` while the argument may be ``None`` (proto3 oneof
    scalars; in editions, every field with implicit presence: messages,
    repeated fields, maps and oneof members too); those go through an
    ``Any``-typed mapping, where protobuf reads ``None`` as "not set".
    """


class Oneof(NamedTuple):
    """A oneof of a request message with two or more members: at most one may be given."""

    name: str
    params: tuple[str, ...]
    """The keyword arguments of its members, in declaration order."""


@dataclass(frozen=True, slots=True)
class Pagination:
    """An AIP-158 list method: what its pager reads from each page.

    The request has ``int32 page_size`` and ``string page_token``, the response
    ``string next_page_token`` and one repeated message field of results: the
    first by position, which must also be the first by field number (AIP-4233;
    where they differ the method is not paginated, rather than guessed at).
    """

    items_field: str
    """The response's results field (``books``)."""
    item_type: str
    """Python type of one result (``library_pb2.Book``)."""


@dataclass(frozen=True, slots=True)
class LongRunning:
    """An AIP-151 method: it answers ``google.longrunning.Operation`` with ``operation_info``."""

    result_type: str
    """Python type of the finished operation's ``response`` (``library_pb2.ExportResponse``)."""
    metadata_type: str
    """Python type of its ``metadata`` while it runs."""


class Method(NamedTuple):
    """One RPC: one generated request class and one method per facade.

    A named tuple, like :class:`Field`: thousands are made for a large tree.
    """

    proto_name: str
    class_name: str
    facade_name: str
    base_class: str
    """The request kind: ``BaseGrpcRequest``, ``ServerStreamingGrpcRequest``..."""
    cardinality: Cardinality
    idempotency: Idempotency
    request_type: str
    response_type: str
    fields: tuple[Field, ...]
    """Keyword arguments for unary-request RPCs; empty for request-streaming ones."""
    doc: tuple[str, ...]
    """The rpc's leading comment, one line per item (may be empty)."""
    deprecated: bool
    """``option deprecated = true`` on the rpc or its service.

    The class and its facade methods are decorated with ``@deprecated``
    (``warnings.deprecated``, or ``typing_extensions.deprecated`` before Python
    3.13): constructing one warns with ``DeprecationWarning`` and type checkers
    flag its use; the docstring says so too.
    """
    oneofs: tuple[Oneof, ...] = ()
    """The request message's oneofs whose members are keyword arguments (two or more each).

    The constructor refuses more than one member of each (the message would keep
    only the last); messages without oneofs pay nothing for the check.
    """

    pagination: Pagination | None = None
    """Set for AIP-158 list methods: the class extends ``GeneratedPaginatedGrpcRequest``."""
    operation: LongRunning | None = None
    """Set for AIP-151 methods: the class carries ``operation_types`` for ``client.wait()``."""

    @property
    def runtime_base(self) -> str:
        """The class a generated class subclasses: the runtime's generated base of its kind."""
        if self.pagination is not None:
            return PAGINATED_BASE
        return GENERATED_BASES[self.base_class]

    @property
    def untyped_fields(self) -> tuple[Field, ...]:
        return tuple(field for field in self.fields if not field.typed)

    @property
    def typed_fields(self) -> tuple[Field, ...]:
        return tuple(field for field in self.fields if field.typed)


@dataclass(frozen=True, slots=True)
class Service:
    """One proto service: its methods and its facade class names."""

    proto_name: str
    full_name: str
    """``package.Service``, as it appears in the RPC path."""
    facade_class: str
    async_facade_class: str
    doc: tuple[str, ...]
    deprecated: bool
    methods: tuple[Method, ...]


@dataclass(frozen=True, slots=True)
class ImportedName:
    """One imported module or name; ``alias`` equals ``name`` when there is no ``as`` clause."""

    name: str
    alias: str


@dataclass(frozen=True, slots=True)
class ImportStatement:
    """``from package import name [as alias], ...``; ``import name [as alias]`` if no package."""

    package: str
    names: tuple[ImportedName, ...]


@dataclass(frozen=True, slots=True)
class NameImport:
    """``from module import name, ...`` for stdlib and runtime names."""

    module: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KeywordAlias:
    """A module-level alias for a type whose path contains a hard keyword."""

    name: str
    module_alias: str
    stub_path: tuple[str, ...]
    """Attribute path in mypy-protobuf's stub (``_r_class``)."""
    runtime_path: tuple[str, ...]
    """Attribute names at run time (``class``), reached with ``getattr``."""


@dataclass(frozen=True, slots=True)
class File:
    """One generated module."""

    proto_name: str
    output_name: str
    stdlib_imports: tuple[NameImport, ...]
    """``from collections.abc ...``, ``from typing ...`` (sorted, unused ones left out)."""
    runtime_import: NameImport | None
    """``from protoreq import ...``; ``None`` when nothing is needed (services without RPCs)."""
    helper_import: NameImport | None
    """``from protoreq.generated import ...``: helpers only some modules need."""
    annotation_import: NameImport | None
    """``from protoreq import ...`` under ``if TYPE_CHECKING:``: names the module spells only in
    annotations (the facades' ``GrpcCaller``, ``GrpcResponse``, streams), so importing it does
    not load the response and stream modules (issue 16's import budget)."""
    pb2_imports: tuple[ImportStatement, ...]
    """The ``_pb2`` modules, in isort's order: ``import`` statements first, then by package."""
    keyword_aliases: tuple[KeywordAlias, ...]
    services: tuple[Service, ...]
    facade: bool
    """Whether to write the per-service facade classes."""

    @property
    def methods(self) -> tuple[Method, ...]:
        return tuple(method for service in self.services for method in service.methods)

    @property
    def has_deprecated(self) -> bool:
        return any(method.deprecated for method in self.methods)

    @property
    def has_upper_case_params(self) -> bool:
        """Some keyword argument keeps a field's upper-case proto name (etcd's ``TTL``, ``ID``).

        The module then tells ruff that pep8-naming's N803 does not apply: the
        keyword must be the field's name.
        """
        return any(
            field.param != field.param.lower() for method in self.methods for field in method.fields
        )
