"""Plugin options: the text protoc passes from ``--protoreq_opt=`` (or buf's ``opt:``).

The parameter is a comma-separated list of ``key=value`` pairs, the convention
protoc plugins share (``--protoreq_opt=facade=false``). Options are parsed
strictly: an unknown key or a bad value is an error reported back to protoc,
because a silently ignored typo would produce subtly different code in CI.
"""

from __future__ import annotations

from dataclasses import dataclass

from protoreq_generator import naming

_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})
_STUBS = frozenset({"mypy", "pyi", "none"})

OPTION_HELP = {
    "facade": "true|false (default true): also write <Service>Client / Async<Service>Client",
    "stubs": "mypy|pyi|none (default mypy): the _pb2.pyi stubs the output is typed against "
    "(mypy-protobuf's, or protoc's --pyi_out, whose enums have no ValueType)",
    "pb2_module": "PROTO:MODULE (repeatable): import the messages of PROTO (a .proto name) "
    "from MODULE, an installed _pb2 module, instead of PROTO's own",
}
"""Every known option with its help text; the source of the error message's list."""


class OptionsError(ValueError):
    """The parameter names an unknown option or gives an option a value it cannot take."""


@dataclass(frozen=True, slots=True)
class GeneratorOptions:
    """What the user can switch; defaults give the full output."""

    facade: bool = True
    stubs: str = "mypy"
    """Whose ``_pb2.pyi`` stubs the output's annotations must agree with."""
    pb2_modules: tuple[tuple[str, str], ...] = ()
    """(.proto name, module) pairs: messages imported from an installed ``_pb2`` module."""

    def enum_value_type(self, enum_class: str) -> str:
        """One value of an enum, annotated: mypy-protobuf's ``ValueType``, else the class."""
        return f"{enum_class}.ValueType" if self.stubs == "mypy" else enum_class

    def pb2_module(self, proto_name: str) -> str:
        """The module generated code imports ``proto_name``'s messages from."""
        for name, module in self.pb2_modules:
            if name == proto_name:
                return module
        return naming.pb2_module(proto_name)


def _parse_bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise OptionsError(f"option {key!r} takes true or false, not {value!r}")


def parse_options(parameter: str) -> GeneratorOptions:
    """Parse protoc's parameter string; raise :class:`OptionsError` for anything unknown."""
    facade = True
    pb2_modules: list[tuple[str, str]] = []
    stubs = "mypy"
    for raw in parameter.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        if key == "facade":
            facade = _parse_bool(key, value if sep else "true")
        elif key == "stubs":
            stubs = value.strip()
            if stubs not in _STUBS:
                raise OptionsError(f"option 'stubs' takes mypy, pyi or none, not {value!r}")
        elif key == "pb2_module":
            proto, colon, module = value.strip().rpartition(":")
            if not (sep and colon and proto and module.isascii()) or not all(
                part.isidentifier() for part in module.split(".")
            ):
                raise OptionsError(
                    f"option 'pb2_module' takes PROTO:MODULE (a.proto:pkg.a_pb2), not {value!r}"
                )
            pb2_modules.append((proto, module))
        else:
            known = "; ".join(f"{name}={text}" for name, text in sorted(OPTION_HELP.items()))
            raise OptionsError(f"unknown option {key!r} in {parameter!r}; known options: {known}")
    return GeneratorOptions(facade=facade, stubs=stubs, pb2_modules=tuple(pb2_modules))
