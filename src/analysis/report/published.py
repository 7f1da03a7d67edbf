"""The one look-up of the published indicator table, with one way of saying a figure is not shown.

The memo, its page 1 and the forecast report read every figure through :class:`Figures`, so a
figure reads the same wherever it is printed. A look-up is ``(indicator, breakdown, period)``,
the period defaulting to the reference month. A value that is hidden or absent is NaN; as text
it is the mark the memo's »Sådan læses tallene« explains: ``<5`` for a small count, ``·`` for a
cell hidden to protect another, ``–`` for no figure. :data:`NOT_YET` is for a whole set of
figures (a curve, a forecast) that is not there yet, never for a single cell.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from analysis.base import fmt
from analysis.base.suppression import suppressed_mark
from analysis.context import PUBLISHED_TABLE
from analysis.indicators.common import cell_value
from analysis.months import months_back, period_label

NOT_YET = "endnu ikke tilgængelig"
HISTORY_MONTHS = 24  # the memo's charts show two years


def load(build_dir: Path) -> pd.DataFrame:
    """The published (suppressed) indicator table; empty when the assemble step has not run, so a
    report then says what is missing instead of failing or inventing figures."""
    path = build_dir / PUBLISHED_TABLE
    if path.exists():
        return pd.read_parquet(path)
    return pd.DataFrame(columns=["indicator", "period", "breakdown", "value", "suppressed"])


class Figures:
    """Look-ups in an indicator table for one reference month."""

    def __init__(self, table: pd.DataFrame, month: pd.Period, min_count: int):
        self.table = table.assign(breakdown=table["breakdown"].fillna("").astype(str))
        self.month = month
        self.min_count = min_count
        self.m = period_label(month)
        self.history = [period_label(p) for p in months_back(month, HISTORY_MONTHS)]
        # Row positions per (indicator, period, breakdown), built once: a memo looks up ~1,000 cells.
        self._positions = self.table.groupby(["indicator", "period", "breakdown"], sort=False, observed=True).indices
        self._values = self.table["value"].to_numpy(dtype=float)

    def _positions_of(self, indicator: str, breakdown: str, period: str | None) -> Sequence[int]:
        return self._positions.get((indicator, period or self.m, breakdown), [])

    def value(self, indicator: str, breakdown: str = "", period: str | None = None) -> float:
        """One cell: NaN when it is absent or hidden; an error when the table repeats it."""
        return cell_value(self._values[self._positions_of(indicator, breakdown, period)], indicator,
                          period or self.m, breakdown)

    def text(self, indicator: str, breakdown: str = "", period: str | None = None,
             as_: Callable[[float], str] = fmt.number) -> str:
        """The cell formatted by ``as_``; ``<5`` / ``·`` when hidden, ``–`` when absent."""
        positions = self._positions_of(indicator, breakdown, period)
        mark = suppressed_mark(self.table.iloc[positions[0]], self.min_count) if len(positions) else None
        if mark is not None:
            return mark
        v = self.value(indicator, breakdown, period)
        return fmt.MISSING if math.isnan(v) else as_(v)

    def pct(self, indicator: str, breakdown: str = "", period: str | None = None, decimals: int = 0) -> str:
        return self.text(indicator, breakdown, period, lambda v: fmt.pct(v, decimals))

    def kr(self, indicator: str, breakdown: str = "", period: str | None = None) -> str:
        return self.text(indicator, breakdown, period, fmt.kr)

    def series(self, pairs: dict[tuple[str, str], str], periods: Sequence[str] | None = None) -> pd.DataFrame:
        """Long chart data (period, serie, value) for (indicator, breakdown) → label, NaN where hidden."""
        return pd.DataFrame([
            {"period": p, "serie": label, "value": self.value(ind, b, p)}
            for (ind, b), label in pairs.items() for p in (periods or self.history)
        ])

    def cells(self, indicator: str, period: str | None = None) -> pd.DataFrame:
        """Every row of one indicator in one period (all its breakdowns)."""
        t = self.table
        return t[(t["indicator"] == indicator) & (t["period"] == (period or self.m))]
