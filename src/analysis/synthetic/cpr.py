"""Fictitious CPR numbers that can never belong to a registered person.

Rule (docs/synthetic-data.md): the day of month is written as day + 60
(61–91), the form of Danish replacement numbers ("erstatningsnumre"), which
the CPR register never issues to a person; the month is valid, the 7th digit
is consistent with the birth year under the standard century rule, and the
last digit is odd for men and even for women.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# 7th digits allowed per birth-year range under the century rule.
_CENTURY_DIGITS: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (1858, 1899, (5, 6, 7, 8)),
    (1900, 1936, (0, 1, 2, 3)),
    (1937, 1999, (0, 1, 2, 3, 4, 9)),
    (2000, 2036, (4, 5, 6, 7, 8, 9)),
    (2037, 2057, (5, 6, 7, 8)),
)


def century_digit(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    """A 7th digit that encodes each birth year's century correctly."""
    out = np.full(len(years), -1, dtype=np.int64)
    u = rng.random(len(years))
    for lo, hi, digits in _CENTURY_DIGITS:
        hit = (years >= lo) & (years <= hi)
        out[hit] = np.asarray(digits)[(u[hit] * len(digits)).astype(np.int64)]
    if (out < 0).any():
        raise ValueError("birth year outside 1858–2057 cannot be encoded in a CPR number")
    return out


def make_cprs(rng: np.random.Generator, birth_days: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Unique 10-digit CPR strings (as object array) for the given birth dates and sexes."""
    dates = pd.DatetimeIndex(birth_days.astype("datetime64[D]"))
    years = dates.year.to_numpy().astype(np.int64)
    date_part = (dates.day.to_numpy() + 60) * 10_000 + dates.month.to_numpy() * 100 + years % 100
    seventh = century_digit(rng, years)
    n = len(years)
    serial = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(50):
        mid = rng.integers(0, 100, len(todo))
        last = 2 * rng.integers(0, 5, len(todo)) + male[todo].astype(np.int64)
        serial[todo] = seventh[todo] * 1000 + mid * 10 + last
        number = date_part.astype(np.int64) * 10_000 + serial
        _, first = np.unique(number, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        todo = np.flatnonzero(dup)
        if len(todo) == 0:
            break
    else:
        raise RuntimeError("could not draw unique CPR numbers")
    return pd.Series(number).astype(str).str.zfill(10).to_numpy(dtype=object)


def with_dash(cprs: np.ndarray) -> np.ndarray:
    """``DDMMYYSSSS`` → ``DDMMYY-SSSS`` (the other form the contract accepts)."""
    s = pd.Series(cprs, dtype=object)
    return (s.str[:6] + "-" + s.str[6:]).to_numpy(dtype=object)
