"""Generated modules among installed packages: namespaces, shadowing, ``_pb2`` already installed.

A .proto's path is its Python module path, so protos under ``google/`` or
``grpc/`` produce modules inside names that installed distributions own:

* ``google`` is a namespace package (protobuf, googleapis-common-protos and
  the google-cloud libraries each add a portion). An ``OUT/google/__init__.py``
  would turn OUT's folder into a regular package that hides every other
  portion, ``google.protobuf`` included, so nothing imports any more. Output
  there must stay a namespace portion: no ``__init__.py`` in a folder whose
  name is installed (:meth:`Environment.find`).
* ``grpc`` is grpcio's regular package: ``OUT/grpc/health/v1/health_pb2.py``
  can never be imported as ``grpc.health.v1.health_pb2`` (only a
  ``OUT/grpc/__init__.py`` shadowing grpcio would make it so). Such output gets
  a warning (:meth:`Environment.shadowing`) that names the way out.
* Messages already installed must not be compiled a second time: protobuf
  refuses a second file defining ``grpc.health.v1.HealthCheckRequest`` in one
  process ("duplicate symbol"). :meth:`Environment.provider` finds the
  installed ``_pb2`` that defines a file's messages (googleapis-common-protos'
  ``google.rpc.status_pb2``; grpcio-health-checking's
  ``grpc_health.v1.health_pb2``, as grpcio's add-ons publish ``grpc.<name>``
  packages as ``grpc_<name>``), and protoreq's module imports that one.

"Installed" means importable in the environment protoreq runs in, without
importing anything to find out (``PathFinder`` over ``sys.path`` less the
output folder and the folder protoreq was started from); only a candidate
``_pb2`` module is imported, to read its descriptor.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path

from google.protobuf import descriptor_pb2

KNOWN_NAMESPACES = frozenset({"google", "google.cloud"})
"""Namespaces shared by convention, kept free of ``__init__.py`` even where nothing is installed."""


@dataclass(frozen=True, slots=True)
class Installed:
    """An importable module or package, found without importing it."""

    name: str
    namespace: bool
    """An implicit namespace package: other folders may add to it, so OUT may too."""
    locations: tuple[str, ...]
    """Its folders (a package) or its file (a module)."""

    @property
    def where(self) -> str:
        return self.locations[0] if self.locations else self.name


@dataclass(frozen=True, slots=True)
class Provider:
    """An installed ``_pb2`` module defining a file's messages, and the .proto it came from."""

    module: str
    proto_name: str


def _holds_python(folder: str) -> bool:
    """A namespace portion that adds modules, not just a folder of .proto files of that name."""
    try:
        with os.scandir(folder) as entries:
            return any(e.name.endswith((".py", ".pyi", ".so")) or e.is_dir() for e in entries)
    except OSError:
        return False


def _inside(path: str, folders: Sequence[str]) -> bool:
    absolute = os.path.abspath(path)
    return any(absolute == folder or absolute.startswith(folder + os.sep) for folder in folders)


class Environment:
    """What is installed where generated output goes; answers are cached per name."""

    def __init__(self, exclude: Iterable[Path]) -> None:
        self._exclude = [os.path.abspath(folder) for folder in exclude]
        # sys.path[0] is where protoreq itself was started from (its script folder, or the
        # current folder under `python -m`), not part of the environment the output runs in.
        self._path = [entry for entry in sys.path[1:] if entry and not self._excluded(entry)]
        self._find = functools.cache(self._find_uncached)
        self._providers: dict[str, Provider | None] = {}

    def _excluded(self, path: str) -> bool:
        return _inside(path, self._exclude)

    def find(self, name: str) -> Installed | None:
        """The installed module or package called ``name`` (dotted), or ``None``."""
        return self._find(name)

    def _find_uncached(self, name: str) -> Installed | None:
        parent_name, _, _ = name.rpartition(".")
        spec: ModuleSpec | None
        if parent_name:
            parent = self.find(parent_name)
            if parent is None or not parent.locations or parent.locations[0].endswith(".py"):
                return None
            spec = PathFinder.find_spec(name, list(parent.locations))
        else:
            spec = self._find_top_level(name)
        if spec is None:
            return None
        if spec.submodule_search_locations is not None:
            namespace = spec.origin in (None, "namespace")
            locations = tuple(
                location
                for location in spec.submodule_search_locations
                if not self._excluded(location) and (not namespace or _holds_python(location))
            )
            if not locations and namespace:
                return None
            return Installed(name, namespace, locations)
        origin = spec.origin or ""
        if origin and self._excluded(origin):
            return None
        return Installed(name, False, (origin,) if origin else ())

    def _find_top_level(self, name: str) -> ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is PathFinder or (
                isinstance(finder, type) and issubclass(finder, PathFinder)
            ):
                spec = PathFinder.find_spec(name, self._path)
            else:
                find_spec = getattr(finder, "find_spec", None)
                if find_spec is None:
                    continue
                try:
                    spec = find_spec(name, None)
                except Exception:  # a third party's finder that fails answers nothing
                    spec = None
            if spec is not None:
                return spec
        return None

    def owner(self, module: str) -> Installed | None:
        """The installed regular package or module that ``module`` (dotted) would fall under.

        ``None`` when every installed prefix is a namespace (output there imports fine).
        """
        parts = module.split(".")
        for end in range(1, len(parts) + 1):
            found = self.find(".".join(parts[:end]))
            if found is None:
                return None
            if not found.namespace:
                return found
        return None

    def may_hold_init(self, package: str) -> bool:
        """Whether OUT's folder for ``package`` can get an ``__init__.py`` that hides nothing."""
        if package in KNOWN_NAMESPACES or self.find(package) is not None:
            return False
        return self.owner(package) is None

    def provider(self, file: descriptor_pb2.FileDescriptorProto) -> Provider | None:
        """The installed ``_pb2`` module that defines ``file``'s messages and enums, if any."""
        if file.name not in self._providers:
            self._providers[file.name] = self._provider(file)
        return self._providers[file.name]

    def _provider(self, file: descriptor_pb2.FileDescriptorProto) -> Provider | None:
        wanted = {m.name for m in file.message_type} | {e.name for e in file.enum_type}
        if not wanted or not file.package:
            return None
        packages = [file.package]
        if file.package.startswith("grpc."):
            packages.append("grpc_" + file.package.removeprefix("grpc."))
        stem = Path(file.name).stem.replace("-", "_").replace(".", "_") + "_pb2"
        for package in packages:
            for module in self._pb2_modules(package, stem):
                proto_name = _defines(module, file.package, wanted)
                if proto_name is not None:
                    return Provider(module, proto_name)
        return None

    def _pb2_modules(self, package: str, stem: str) -> list[str]:
        """``_pb2`` modules of an installed package, the one named like the .proto first."""
        found = self.find(package)
        if found is None or found.locations[:1] == () or found.locations[0].endswith(".py"):
            return []
        names: set[str] = set()
        for location in found.locations:
            with contextlib.suppress(OSError):
                names.update(
                    entry.name.removesuffix(".py")
                    for entry in os.scandir(location)
                    if entry.name.endswith("_pb2.py")
                )
        ordered = sorted(names, key=lambda name: (name != stem, name))
        return [f"{package}.{name}" for name in ordered]


def _defines(module: str, package: str, wanted: set[str]) -> str | None:
    """The .proto name ``module`` was compiled from, if it defines ``wanted`` in ``package``."""
    try:
        descriptor = importlib.import_module(module).DESCRIPTOR
    except Exception:  # an installed module that does not import provides nothing
        return None
    if descriptor.package != package:
        return None
    defined = set(descriptor.message_types_by_name) | set(descriptor.enum_types_by_name)
    return str(descriptor.name) if wanted <= defined else None


def shadow_warnings(modules: Iterable[str], out: Path, environment: Environment) -> list[str]:
    """One line per installed package or module that output falls under (see the module doc)."""
    owners: dict[str, tuple[Installed, int]] = {}
    generated = set(modules)
    for module in generated:
        owner = environment.owner(module)
        if owner is not None:
            seen = owners.get(owner.name)
            owners[owner.name] = (owner, (seen[1] if seen else 0) + 1)
    lines = []
    for name, (owner, count) in sorted(owners.items()):
        target = out.joinpath(*name.split("."))
        if name in generated:
            lines.append(f"{target}.py would shadow the installed module {name} ({owner.where})")
            continue
        lines.append(
            f"{count} generated module(s) under {target} cannot be imported: the installed "
            f"package {name} ({owner.where}) owns that name, and an __init__.py there would "
            "shadow it; compile these .proto files from a folder of your own "
            "(README: protos under google/ and grpc/)"
        )
    return lines
