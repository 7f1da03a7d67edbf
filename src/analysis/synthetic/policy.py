"""Policy figures the generator takes from the parameter file (one source of truth).

Years outside those the file gives are extrapolated along the pl index, so a
benefit rate or subsidy is never a silent constant across a decade.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from analysis.params import Params


def pl_index(params: Params, years: np.ndarray) -> np.ndarray:
    """Pris- og lønindeks (2021 = 1) for each year, grown by ``growth_after_last`` outside the given years."""
    table: Mapping[int, float] = {int(k): float(v) for k, v in params["price_index.by_year"].items()}
    growth = 1 + float(params["price_index.growth_after_last"])
    lo, hi = min(table), max(table)
    years = np.asarray(years, dtype=np.int64)
    clipped = np.clip(years, lo, hi)
    base = np.array([table[int(y)] for y in clipped]) if len(years) else np.array([])
    return base * growth ** (years - clipped)


def by_year(params: Params, key: str, years: np.ndarray) -> np.ndarray:
    """A yearly rate (``{year: amount}`` parameter) for each year, moved along the pl index from the nearest given year."""
    table = {int(k): float(v) for k, v in params[key].items()}
    known = np.array(sorted(table))
    years = np.asarray(years, dtype=np.int64)
    nearest = known[np.abs(years[:, None] - known[None, :]).argmin(axis=1)]
    amount = np.array([table[int(y)] for y in nearest])
    return amount * pl_index(params, years) / pl_index(params, nearest)


def monthly_state_subsidy(params: Params, years: np.ndarray) -> np.ndarray:
    """Temporary state rent subsidy per month in the year of move-in (15.000 kr./year, pl 2021)."""
    return np.round(float(params["state_subsidy.annual_amount_pl2021"]) * pl_index(params, years) / 12, 2)
