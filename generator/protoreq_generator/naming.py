"""Every Python name the generator writes is decided here, and only here.

Rules (stable: changing one changes users' code, so each is part of the API):

* **Modules.** ``a/b/user-v1.proto`` is protoc's module ``a.b.user_v1_pb2``
  (``-`` becomes ``_``, ``/`` and ``.`` become package separators, exactly as
  protoc's Python generator does); the generated module is
  ``a.b.user_v1_protoreq`` in ``a/b/user_v1_protoreq.py``. A ``_pb2`` module is
  imported under its own name (``from a.b import user_pb2``) unless two modules
  imported by one file share that name; then each of them is aliased with the
  fewest trailing package names that tell them apart (``a.b.common_pb2`` and
  ``a.c.common_pb2`` -> ``b_common_pb2``, ``c_common_pb2``), or, should those
  still collide, with protoc's own alias (``a_dot_b_dot_common__pb2``). A
  module path that an ``import`` statement cannot spell (a hard keyword, or a
  folder or file name that is not an ASCII identifier, such as ``2fa/`` or
  ``my file.proto``) is an error naming the .proto file: protoc writes a
  ``_pb2.py`` there all the same, but no ``import`` can reach it.
* **Request classes** are ``<Method>GrpcRequest`` with the method name in
  PascalCase (``get_user`` -> ``GetUserGrpcRequest``). When two services of one
  file have methods with the same PascalCase name, *all* of those classes take
  the PascalCase service name as a prefix (``UserServiceGetGrpcRequest`` and
  ``AdminServiceGetGrpcRequest``), so adding a second service never silently
  renames only one side. Classes that still collide (``get_user`` and
  ``GetUser`` in one service, a method ``Base`` whose class would be the
  imported ``BaseGrpcRequest``) are escaped as below: ``GetUserGrpcRequest_``.
* **Facades** are ``<Service>Client`` and ``Async<Service>Client``; their
  methods are the snake_case method names (``GetHTTPStatus`` ->
  ``get_http_status``). A service's sync facade always keeps its plain name:
  when ``Async<Service>Client`` is also the sync facade of another service of
  the file (services ``Foo`` and ``AsyncFoo``), the async facade is the one
  escaped (``AsyncFooClient_``), whatever order the services are declared in.
* **Keyword arguments** are the proto field names, unchanged where possible.
* **Escaping.** A name found in :data:`RESERVED` (Python keywords, soft
  keywords, the builtins generated code uses, the names of the runtime's
  request API, and every name a generated module imports), or a name already
  taken in the same scope, gets a trailing underscore, repeated until it is
  free (``class`` -> ``class_``, ``metadata`` -> ``metadata_``). Names in one
  scope are settled in two passes so a name that needs no escaping is never
  displaced: first every free name is claimed in declaration order, then the
  rest are escaped in declaration order (fields ``class`` and ``class_`` give
  ``class__`` and ``class_``). A name starting with two underscores would be
  mangled inside a class, so it loses its leading underscores and is escaped
  (``__x`` -> ``x_``). Keyword arguments also avoid the module-level names of
  their file (classes, ``_pb2`` aliases), which a parameter would shadow.
* **Message types** are referenced through their module
  (``user_pb2.User``, ``user_pb2.Outer.Inner``). A type whose name or
  enclosing message's name is a hard keyword (``message class``) cannot be
  reached by attribute syntax; it gets a module-level alias
  (``_rich_pb2__class``) bound to mypy-protobuf's ``_r_class`` for type
  checkers and to ``getattr(rich_pb2, "class")`` at run time.

The keyword lists are spelled out rather than read from :mod:`keyword`, so the
output does not depend on the Python version that runs the generator.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet

PYTHON_KEYWORDS = frozenset(
    {
        "False",
        "None",
        "True",
        "and",
        "as",
        "assert",
        "async",
        "await",
        "break",
        "class",
        "continue",
        "def",
        "del",
        "elif",
        "else",
        "except",
        "finally",
        "for",
        "from",
        "global",
        "if",
        "import",
        "in",
        "is",
        "lambda",
        "nonlocal",
        "not",
        "or",
        "pass",
        "raise",
        "return",
        "try",
        "while",
        "with",
        "yield",
    }
)
"""Hard keywords: never valid as names (mypy-protobuf's ``PYTHON_RESERVED``)."""

SOFT_KEYWORDS = frozenset({"_", "case", "match", "type"})
"""Valid names, but confusing ones in generated signatures; escaped all the same."""

BUILTINS_USED = frozenset({"bool", "bytes", "dict", "float", "int", "object", "str", "super"})
"""Builtins the templates spell; a parameter or method of that name would shadow them."""

RUNTIME_NAMES = frozenset(
    {
        "call",
        "call_async",
        "cls",
        "from_message",
        "message",
        "messages",
        "metadata",
        "method_name",
        "retry_policy",
        "rpc",
        "self",
        "service_name",
        "stream",
        "stream_async",
        "timeout",
        # Attributes and locals of generated code.
        "_client",
        "_message",
        "_messages",
        "untyped",
    }
)
"""Names of the request API (base classes, client) and of generated attributes."""

MODULE_NAMES = frozenset(
    {
        "annotations",
        "sys",
        "TYPE_CHECKING",
        "Any",
        "AsyncIterable",
        "ClassVar",
        "Iterable",
        "Mapping",
        "Self",
        "deprecated",
        "construct_quietly",
        "oneof_conflict",
        "USE_CLIENT_DEFAULT",
        "AsyncGrpcStream",
        "BaseGrpcRequest",
        "BidiStreamingGrpcRequest",
        "Cardinality",
        "ClientStreamingGrpcRequest",
        "GeneratedBidiStreamingGrpcRequest",
        "GeneratedClientStreamingGrpcRequest",
        "GeneratedGrpcRequest",
        "GeneratedServerStreamingGrpcRequest",
        "GrpcCaller",
        "GrpcClient",
        "GrpcResponse",
        "GrpcStream",
        "Idempotency",
        "RpcMethod",
        "ServerStreamingGrpcRequest",
        "UseClientDefault",
    }
)
"""Every name a generated module may import; generated classes never take one of them.

Names that generated modules no longer import (``BaseGrpcRequest``, ``GrpcClient``,
``Self``) stay: dropping one would rename classes that were escaped because of it.
"""

RESERVED = PYTHON_KEYWORDS | SOFT_KEYWORDS | BUILTINS_USED | RUNTIME_NAMES | MODULE_NAMES
"""The one table of names that are escaped wherever the generator picks a name."""

ENUM_VALUE_RESERVED = frozenset(
    {"DESCRIPTOR", "Name", "V", "Value", "ValueType", "items", "keys", "values"}
)
"""Enum value names that the enum wrapper class (or mypy-protobuf's stub) does not expose."""

REQUEST_SUFFIX = "GrpcRequest"
FACADE_SUFFIX = "Client"
ASYNC_FACADE_PREFIX = "Async"
STUB_KEYWORD_PREFIX = "_r_"
"""mypy-protobuf's prefix for types named with hard keywords."""

_SNAKE_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def pascal_case(name: str) -> str:
    """``get_user`` -> ``GetUser``; ``GetUser`` and ``HTTPGet`` stay as they are."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def snake_case(name: str) -> str:
    """``GetHTTPStatus`` -> ``get_http_status``; ``get_user`` stays as it is."""
    return _SNAKE_BOUNDARY.sub("_", name).lower()


def allocate(wanted: Sequence[str], taken: AbstractSet[str] = frozenset()) -> tuple[str, ...]:
    """Free, distinct names for ``wanted``, in order (see the module docstring's escaping rule)."""
    claimed: set[str] = set()
    result: list[str | None] = [None] * len(wanted)
    for index, name in enumerate(wanted):
        if (
            name not in RESERVED
            and name not in taken
            and name not in claimed
            and not name.startswith("__")
        ):
            claimed.add(name)
            result[index] = name
    for index, name in enumerate(wanted):
        if result[index] is not None:
            continue
        candidate = (name.lstrip("_") or "unnamed") if name.startswith("__") else name
        candidate += "_"
        while candidate in RESERVED or candidate in taken or candidate in claimed:
            candidate += "_"
        claimed.add(candidate)
        result[index] = candidate
    return tuple(name for name in result if name is not None)


def request_class_bases(
    services: Sequence[tuple[str, Sequence[str]]],
) -> tuple[tuple[str, ...], ...]:
    """Wanted request class names (before escaping), given ``(service, methods)`` pairs."""
    pascal = [
        (pascal_case(service), [pascal_case(m) for m in methods]) for service, methods in services
    ]
    owners: dict[str, set[int]] = {}
    for position, (_, methods) in enumerate(pascal):
        for method in methods:
            owners.setdefault(method, set()).add(position)
    return tuple(
        tuple(
            (service if len(owners[method]) > 1 else "") + method + REQUEST_SUFFIX
            for method in methods
        )
        for service, methods in pascal
    )


def class_names(
    services: Sequence[tuple[str, Sequence[str]]],
) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, str], ...]]:
    """Request class names per service, and each service's (sync, async) facade class names.

    Given ``(service, methods)`` pairs in declaration order. All are settled in
    one scope; sync facades claim their names before async ones (the facade rule
    of the module docstring), request classes before both.
    """
    requests = request_class_bases(services)
    facades = [facade_class_names(service) for service, _ in services]
    wanted = [
        *(name for names in requests for name in names),
        *(sync for sync, _ in facades),
        *(async_ for _, async_ in facades),
    ]
    settled = iter(allocate(wanted))
    request_names = tuple(tuple(next(settled) for _ in names) for names in requests)
    sync_names = [next(settled) for _ in facades]
    async_names = [next(settled) for _ in facades]
    return request_names, tuple(zip(sync_names, async_names, strict=True))


def facade_class_names(service: str) -> tuple[str, str]:
    """The sync and async facade class names wanted for ``service``."""
    base = pascal_case(service) + FACADE_SUFFIX
    return base, ASYNC_FACADE_PREFIX + base


def strip_proto(proto_name: str) -> str:
    return proto_name.removesuffix(".proto")


def module_base(proto_name: str) -> str:
    """``a/b/user-v1.proto`` -> ``a.b.user_v1`` (protoc's ``ModuleName`` without ``_pb2``)."""
    return strip_proto(proto_name).replace("-", "_").replace("/", ".")


def pb2_module(proto_name: str) -> str:
    """The module protoc's ``--python_out`` writes for ``proto_name``."""
    return module_base(proto_name) + "_pb2"


def output_path(proto_name: str) -> str:
    """Where the generated module goes, relative to the output root: beside the ``_pb2.py``."""
    return module_base(proto_name).replace(".", "/") + "_protoreq.py"


def protoc_alias(module: str) -> str:
    """protoc's collision-free module alias: ``a.b.user_pb2`` -> ``a_dot_b_dot_user__pb2``."""
    return module.replace("_", "__").replace(".", "_dot_")


def module_aliases(modules: Iterable[str]) -> dict[str, str]:
    """The name each imported ``_pb2`` module is known by in one generated file."""
    by_basename: dict[str, list[str]] = {}
    for module in sorted(set(modules)):
        by_basename.setdefault(module.rpartition(".")[2], []).append(module)
    aliases: dict[str, str] = {}
    for basename, group in by_basename.items():
        if len(group) == 1:
            aliases[group[0]] = basename
            continue
        deepest = max(module.count(".") + 1 for module in group)
        for depth in range(2, deepest + 1):
            candidates = {module: "_".join(module.split(".")[-depth:]) for module in group}
            if len(set(candidates.values())) == len(group):
                break
        else:
            candidates = {module: protoc_alias(module) for module in group}
        aliases.update(candidates)
    counts = Counter(aliases.values())
    return {
        module: alias if counts[alias] == 1 else protoc_alias(module)
        for module, alias in aliases.items()
    }


def unimportable_part(module: str) -> str | None:
    """The first part of a dotted module path that an ``import`` statement cannot spell.

    Hard keywords, and anything that is not an identifier: a folder ``2fa``, a
    file ``my file.proto``, a dot inside a folder name (``v1.2/``).
    """
    for part in module.split("."):
        if part in PYTHON_KEYWORDS or not part.isidentifier() or not part.isascii():
            return part
    return None


def type_path_needs_alias(parts: Sequence[str]) -> bool:
    """Whether a type's path within its module cannot be written with attribute syntax."""
    return any(part in PYTHON_KEYWORDS for part in parts)


def stub_type_path(parts: Sequence[str]) -> tuple[str, ...]:
    """The path mypy-protobuf's stub gives the type (hard keywords get ``_r_``)."""
    return tuple(STUB_KEYWORD_PREFIX + part if part in PYTHON_KEYWORDS else part for part in parts)


def keyword_alias_name(module_alias: str, parts: Sequence[str]) -> str:
    """Module-level alias for a type that needs one: ``_rich_pb2__Outer_class``."""
    return "_" + module_alias + "__" + "_".join(parts)


def qualified(package: str, name: str) -> str:
    """A proto full name: ``user.UserService``, or just ``UserService`` without a package."""
    return f"{package}.{name}" if package else name


def dotted(*parts: str) -> str:
    """A dotted reference such as ``user_pb2.Outer.Inner``."""
    return ".".join(parts)


def keyword_safe(name: str) -> bool:
    """Whether ``name=value`` can be written in a call inside a class body.

    Hard keywords cannot; names starting with ``__`` would be mangled.
    """
    return name not in PYTHON_KEYWORDS and not name.startswith("__")


def enum_value_usable(name: str) -> bool:
    """Whether ``Enum.NAME`` reaches the value both at run time and in mypy-protobuf's stub."""
    return name not in PYTHON_KEYWORDS and name not in ENUM_VALUE_RESERVED
