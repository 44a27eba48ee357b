"""Fenced code blocks of the project's Markdown files, with the directive that governs each.

A block is run according to its language (``python``: executed against a real
server by :mod:`tests.docs.runner`; ``bash``: executed in a scratch folder) unless
an HTML comment on the line right before its fence says otherwise:

* ``<!-- not-run: REASON -->`` — shown only; the reason is required;
* ``<!-- output -->`` — the expected stdout of the previous block that ran;
* ``<!-- output: NAME -->`` — the expected stdout of a command a test runs by
  that name (``python -m examples``);
* ``<!-- excerpt: PATH -->`` — must appear, line for line, in the file at PATH;
* ``<!-- pytest -->`` — a python block that is a test module, run by pytest.

Any other block without a directive fails the suite, so a new snippet is
either run or marked, never silently unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]

RUNNABLE_LANGUAGES: Final = frozenset({"python", "bash"})
DIRECTIVES: Final = frozenset({"not-run", "output", "excerpt", "pytest"})

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*(?P<name>[a-z-]+)\s*(?::\s*(?P<argument>.*?))?\s*-->\s*$")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced code block; ``line`` is the 1-based line of its opening fence."""

    path: Path
    line: int
    language: str
    text: str
    directive: str | None = None
    argument: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}"

    @property
    def runs(self) -> bool:
        """Whether the suite executes this block (as a program, not as expected output)."""
        if self.directive is None:
            return self.language in RUNNABLE_LANGUAGES
        return self.directive == "pytest"


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path``, in order."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            body.append(lines[end][indent:])
            end += 1
        directive = _DIRECTIVE.match(lines[index - 1]) if index > 0 else None
        found.append(
            Block(
                path=path,
                line=index + 1,
                language=opening["info"].strip().split(" ")[0],
                text="\n".join(body) + "\n",
                directive=None if directive is None else directive["name"],
                argument="" if directive is None else (directive["argument"] or ""),
            )
        )
        index = end + 1
    return found


def documents() -> list[Path]:
    """The Markdown files whose blocks the suite checks: README.md and docs/**."""
    docs = sorted((REPO_ROOT / "docs").rglob("*.md")) if (REPO_ROOT / "docs").is_dir() else []
    return [REPO_ROOT / "README.md", *docs]


def all_blocks() -> list[Block]:
    return [block for path in documents() for block in blocks(path)]


def expected_output_of(block: Block, every: list[Block]) -> Block | None:
    """The ``<!-- output -->`` block that follows ``block`` (before the next block that runs)."""
    position = every.index(block)
    for later in every[position + 1 :]:
        if later.directive == "output" and not later.argument:
            return later
        if later.runs or later.path != block.path:
            return None
    return None
