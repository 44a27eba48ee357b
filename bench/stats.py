"""Medians and the printed table; ratios are protoreq / raw from the same repetitions."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    name: str
    unit: str
    protoreq: float
    baseline: float
    target: str = ""

    @property
    def ratio(self) -> float:
        return self.protoreq / self.baseline if self.baseline else float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values)


def render(rows: list[Row]) -> str:
    header = "| benchmark | unit | protoreq | baseline | ratio | target |"
    lines = [header, "|---|---|---:|---:|---:|---|"]
    for row in rows:
        lines.append(
            f"| {row.name} | {row.unit} | {row.protoreq:,.1f} | {row.baseline:,.1f} "
            f"| {row.ratio:.3f} | {row.target} |"
        )
    return "\n".join(lines)
