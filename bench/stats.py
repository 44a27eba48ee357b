"""Rows of the table, their medians and ratios, and the table itself.

A ratio is the median of per-repetition ratios (protoreq / baseline measured
back to back in the same repetition), not the ratio of two medians: on a
noisy machine the load drifts between repetitions, and pairing samples taken
seconds apart cancels most of that drift. The spread column is the
interquartile range of those paired ratios: how much one repetition can say.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of the table: protoreq's median, the baseline's, and their paired ratio."""

    name: str
    unit: str
    protoreq: float
    baseline: float
    ratio: float
    target: str = ""
    spread: tuple[float, float] | None = None
    """Interquartile range of the paired ratios (``None`` with fewer than 4 pairs)."""
    """E.g. ``"≤ 1.05"``: compared against :attr:`ratio`, reported as met or not."""

    @property
    def verdict(self) -> str:
        if not self.target:
            return ""
        sign, _, bound = self.target.partition(" ")
        limit = float(bound)
        met = {"≤": self.ratio <= limit, "≥": self.ratio >= limit, "<": self.ratio < limit}[sign]
        return "met" if met else "NOT met"


def paired_row(
    name: str,
    unit: str,
    ours: Sequence[float],
    baseline: Sequence[float],
    target: str = "",
) -> Row:
    """A row from samples taken in the same repetitions (``ours[i]`` beside ``baseline[i]``)."""
    if len(ours) != len(baseline) or not ours:
        raise ValueError(f"{name}: unpaired samples ({len(ours)} vs {len(baseline)})")
    ratios = [a / b for a, b in zip(ours, baseline, strict=True) if b]
    return Row(
        name,
        unit,
        statistics.median(ours),
        statistics.median(baseline),
        statistics.median(ratios) if ratios else float("nan"),
        target,
        _quartiles(ratios),
    )


def _quartiles(values: Sequence[float]) -> tuple[float, float] | None:
    if len(values) < 4:
        return None
    low, _, high = statistics.quantiles(values, n=4)
    return low, high


def absolute_row(name: str, unit: str, values: Sequence[float], limit: float, target: str) -> Row:
    """A row against a fixed limit (the plugin's 0.5 s): the "baseline" is the limit itself."""
    value = statistics.median(values)
    spread = _quartiles([v / limit for v in values])
    return Row(name, unit, value, limit, value / limit, target, spread)


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _spread(spread: tuple[float, float] | None) -> str:
    return "" if spread is None else f"{spread[0]:.2f} to {spread[1]:.2f}"


def render(rows: Sequence[Row]) -> str:
    """A Markdown table, ready to paste into bench/README.md."""
    lines = [
        "| benchmark | unit | protoreq | baseline | ratio | spread (IQR) | target | |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    lines += [
        f"| {row.name} | {row.unit} | {_number(row.protoreq)} | {_number(row.baseline)} "
        f"| {row.ratio:.3f} | {_spread(row.spread)} | {row.target} | {row.verdict} |"
        for row in rows
    ]
    return "\n".join(lines)
