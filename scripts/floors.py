"""The lowest versions pyproject.toml allows, as pip constraints: ``name==floor`` per line.

scripts/test-minimums installs the project with these, so the floors CI tests are
the ones users are promised, read from the one place they are declared. Every
dependency of the runtime and of the extras named on the command line must say
``>=``: a dependency without a floor has nothing to test and is refused.

    python scripts/floors.py pyproject.toml generator otel > constraints.txt
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement


class NoFloorError(Exception):
    """A dependency declares no ``>=`` lower bound."""


def floor_constraint(requirement: str) -> str:
    """``grpcio>=1.63.0`` as ``grpcio==1.63.0``; an environment marker is kept."""
    parsed = Requirement(requirement)
    floors = [spec.version for spec in parsed.specifier if spec.operator == ">="]
    if len(floors) != 1:
        raise NoFloorError(f"{requirement!r} declares no single '>=' floor")
    marker = f"; {parsed.marker}" if parsed.marker else ""
    return f"{parsed.name}=={floors[0]}{marker}"


def floor_constraints(pyproject: Path, extras: list[str]) -> list[str]:
    """Constraints for the runtime's dependencies and those of ``extras``."""
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return [floor_constraint(requirement) for requirement in requirements]


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: floors.py PYPROJECT [EXTRA ...]", file=sys.stderr)
        return 2
    try:
        constraints = floor_constraints(Path(argv[0]), argv[1:])
    except (NoFloorError, KeyError) as error:
        print(f"floors.py: {error}", file=sys.stderr)
        return 1
    print("\n".join(constraints))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
