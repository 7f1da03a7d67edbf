"""Shared building blocks of the indicator builders: periods, counting, stocks.

Every builder answers the same few questions (how many events fell in each
month and year of the history window, how many things were open at the end of
each month); answering them in one place keeps the definitions of data
contract §4 identical across tracks.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.months import month_end, months_back, period_label
from analysis.params import Params

COLUMNS = ["indicator", "period", "breakdown", "value"]
HOUSING_OUTCOMES = ("egen_bolig", "udslusningsbolig", "skaev_bolig")
"""Discharge categories that count as a housing outcome (data contract §3)."""


def history(month: pd.Period, params: Params) -> list[pd.Period]:
    """The months of the history window, oldest first, ending with M."""
    return months_back(month, int(params["definitions.history_months"]))


def years_touched(months: Sequence[pd.Period]) -> list[int]:
    """Calendar years touched by the history window (the current one is year to date)."""
    return sorted({m.year for m in months})


def frame(records: Iterable[tuple[str, str, str, float]]) -> pd.DataFrame:
    """Indicator rows from (indicator, period, breakdown, value) tuples, values as float."""
    out = pd.DataFrame.from_records(list(records), columns=COLUMNS)
    out["value"] = out["value"].astype(float)
    return out


def month_keys(dates: pd.Series) -> pd.Series:
    """``YYYY-MM`` of each date: the period key of monthly counts."""
    return pd.to_datetime(dates).dt.strftime("%Y-%m")


def counts(
    indicator: str, keys: pd.Series, periods: Sequence[str], labels: pd.Series | None = None,
    breakdowns: Sequence[str] = (), total: bool = False,
) -> pd.DataFrame:
    """Count rows per period (``keys`` holds each row's period label) and breakdown, zeros included.

    ``labels`` gives each row's breakdown (``breakdowns`` lists every value to
    report, so an empty cell is an explicit 0); ``total`` adds the ``""``
    breakdown over all rows. Without ``labels`` only the total is reported.
    """
    keys = keys.astype(str)
    records = []
    if labels is None or total:
        per = keys.value_counts()
        records += [(indicator, p, "", per.get(p, 0)) for p in periods]
    if labels is not None:
        per = pd.crosstab(keys, labels.astype(str)) if len(keys) else pd.DataFrame()
        records += [(indicator, p, b, per.at[p, b] if p in per.index and b in per.columns else 0)
                    for p in periods for b in breakdowns]
    return frame(records)


def monthly_and_yearly(
    indicator: str, dates: pd.Series, months: Sequence[pd.Period], labels: pd.Series | None = None,
    breakdowns: Sequence[str] = (), total: bool = False,
) -> pd.DataFrame:
    """Events dated in each month of the window and each calendar year it touches (``YYYY-MM`` and ``YYYY``).

    Facts after M are already cut away, so the current year is year to date.
    """
    when = pd.to_datetime(dates)
    keep = when.notna()
    when, lab = when[keep], (labels[keep] if labels is not None else None)
    year_keys = when.dt.year.astype(str)
    periods_m = [period_label(m) for m in months]
    periods_y = [str(y) for y in years_touched(months)]
    return pd.concat([
        counts(indicator, month_keys(when), periods_m, lab, breakdowns, total),
        counts(indicator, year_keys, periods_y, lab, breakdowns, total),
    ], ignore_index=True)


def open_at(start: pd.Series, end: pd.Series, day: pd.Timestamp) -> pd.Series:
    """Open at the end of ``day``: started on or before it, end empty or later (data contract §1)."""
    return (start <= day) & (end.isna() | (end > day))


def stock(
    indicator: str, start: pd.Series, end: pd.Series, months: Sequence[pd.Period],
    labels: pd.Series | None = None, breakdowns: Sequence[str] = (), weights: pd.Series | None = None,
) -> pd.DataFrame:
    """Things open at the end of the last day of each month (weighted sum, e.g. places), total + breakdowns."""
    w = weights.astype(float) if weights is not None else pd.Series(1.0, index=start.index)
    records = []
    for m in months:
        mask = open_at(start, end, month_end(m))
        records.append((indicator, period_label(m), "", float(w[mask].sum())))
        if labels is not None:
            by = w[mask].groupby(labels[mask].astype(str)).sum()
            records += [(indicator, period_label(m), b, float(by.get(b, 0.0))) for b in breakdowns]
    return frame(records)


def cumulative(indicator: str, dates: pd.Series, months: Sequence[pd.Period]) -> pd.DataFrame:
    """Events dated on or before the end of each month (a cumulative series for target charts)."""
    when = np.sort(pd.to_datetime(dates).dropna().to_numpy())
    ends = np.array([month_end(m).to_datetime64() for m in months])
    return frame((indicator, period_label(m), "", float(n))
                 for m, n in zip(months, np.searchsorted(when, ends, side="right")))


def window_start(month: pd.Period, n_months: int) -> pd.Timestamp:
    """First day of the ``n_months`` window ending with ``month``."""
    return (month - (n_months - 1)).start_time.normalize()


def rolling_counts(
    indicator: str, dates: pd.Series, months: Sequence[pd.Period], first_day: Callable[[pd.Period], pd.Timestamp],
    labels: pd.Series | None = None, breakdowns: Sequence[str] = (), total: bool = False,
) -> pd.DataFrame:
    """Events dated from ``first_day(m)`` to the end of each month ``m`` (12-month windows, year to date)."""
    when = pd.to_datetime(dates)
    parts = []
    for m in months:
        inside = (when >= first_day(m)) & (when <= month_end(m))
        keys = pd.Series(period_label(m), index=when[inside].index)
        parts.append(counts(indicator, keys, [period_label(m)], labels[inside] if labels is not None else None,
                            breakdowns, total))
    return pd.concat(parts, ignore_index=True)


def year_start(month: pd.Period) -> pd.Timestamp:
    return pd.Timestamp(month.year, 1, 1)


def value_of(table: pd.DataFrame, indicator: str, period: str, breakdown: str = "") -> float:
    """One cell of an indicator table (NaN when absent or suppressed); a repeated cell is an error."""
    row = table.loc[(table["indicator"] == indicator) & (table["period"] == period) & (table["breakdown"] == breakdown), "value"]
    if len(row) > 1:
        raise ValueError(f"{indicator} {period} {breakdown!r}: {len(row)} rows")
    return float(row.iloc[0]) if len(row) else float("nan")
