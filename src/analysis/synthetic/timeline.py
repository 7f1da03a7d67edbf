"""Day arithmetic for the simulation.

Dates are int64 day numbers (days since 1970-01-01) so that whole populations
can be shifted, compared and cut with numpy; ``NA_DAY`` marks "empty / not yet
happened" and is written as an empty cell.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NA_DAY = np.int64(-1)


def day(text: str) -> int:
    """Day number of an ISO date ``YYYY-MM-DD``."""
    return int(np.datetime64(text, "D").astype(np.int64))


def month_first_day(month: str) -> int:
    return day(f"{month}-01")


def month_last_day(month: str) -> int:
    return int((pd.Period(month, freq="M").end_time.normalize() - pd.Timestamp("1970-01-01")).days)


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each day number (for monthly panels)."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


@dataclass(frozen=True)
class Window:
    """The calendar the extract covers.

    ``start`` is the first day of data, ``horizon`` the last day on which
    anything happens (end of the ``end`` month, or the extract date if earlier),
    ``extract`` the extract date; ``burn_in`` is where the simulated population
    starts so that the shelters are already full on ``start``.
    """

    start: int
    horizon: int
    extract: int
    burn_in: int

    @classmethod
    def from_args(cls, start: str, end: str, extract_date: str, burn_in_years: int = 5) -> "Window":
        first = month_first_day(start)
        extract = day(extract_date)
        horizon = min(month_last_day(end), extract)
        if horizon < first:
            raise ValueError(f"empty window: start {start}, end {end}, extract date {extract_date}")
        return cls(first, horizon, extract, first - 365 * burn_in_years)
