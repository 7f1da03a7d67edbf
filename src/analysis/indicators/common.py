"""Shared building blocks of the indicator builders: periods, counting, stocks.

Every builder answers the same few questions (how many events fell in each
month and year of the history window, how many things were open at the end of
each month); answering them in one place keeps the definitions of data
contract §4 identical across tracks.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from analysis import months as _months
from analysis.months import months_back, period_label
from analysis.params import Params

# Period → Timestamp arithmetic costs ~50 µs a call, and the builders ask for the same two dozen month ends and
# starts hundreds of times (per month, per indicator): each is computed once. Timestamps are immutable.
month_end = lru_cache(maxsize=1024)(_months.month_end)
month_start = lru_cache(maxsize=1024)(_months.month_start)

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


def as_dates(values: pd.Series) -> pd.Series:
    """``values`` as datetime64, without pandas' conversion cache (it hashes every value of an already-datetime
    column to decide whether caching pays; the same result, ~100× slower)."""
    return pd.to_datetime(values, cache=False)


def month_keys(dates: pd.Series) -> pd.Series:
    """``YYYY-MM`` of each date: the period key of monthly counts.

    Each distinct month is formatted once (``strftime`` per row dominated the indicator step); NaT stays NaN.
    """
    when = as_dates(dates)
    month_no = when.to_numpy().astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    codes, uniques = pd.factorize(month_no)
    nat = np.datetime64("NaT").astype(np.int64)
    labels = np.array([np.nan if m == nat else f"{1970 + m // 12:04d}-{m % 12 + 1:02d}" for m in uniques], dtype=object)
    return pd.Series(labels[codes], index=when.index, name=when.name)


def _positions(values: pd.Series, wanted: Sequence[str]) -> tuple[np.ndarray, list[int], int]:
    """Match values to ``wanted`` by their text: the slot of each value (-1: not wanted), each wanted one's
    slot, and the number of slots (a repeated wanted text shares its slot, so it reports the same count)."""
    slot: dict[str, int] = {}
    slots = [slot.setdefault(w, len(slot)) for w in wanted]
    codes, uniques = pd.factorize(values)  # each distinct value's text is looked up once
    found = np.array([slot.get(t, -1) for t in pd.Series(uniques).astype(str)] + [-1], dtype=np.int64)[codes]
    missing = codes < 0  # NaN, None, NaT: matched by their own text, as astype(str) gives it
    if missing.any():
        found[missing] = [slot.get(t, -1) for t in values[missing].astype(str)]
    return found, slots, len(slot)


def _count_records(
    indicator: str, periods: Sequence[str], period_slots: Sequence[int], per_period: np.ndarray,
    cells: np.ndarray | None, breakdowns: Sequence[str], breakdown_slots: Sequence[int], total: bool,
) -> list[tuple[str, str, str, float]]:
    """The total rows (when ``total``), then a row per period and breakdown from the ``cells`` count matrix."""
    records = [(indicator, p, "", per_period[i]) for p, i in zip(periods, period_slots)] if total else []
    if cells is not None:
        records += [(indicator, p, b, cells[i, j]) for p, i in zip(periods, period_slots)
                    for b, j in zip(breakdowns, breakdown_slots)]
    return records


def counts(
    indicator: str, keys: pd.Series, periods: Sequence[str], labels: pd.Series | None = None,
    breakdowns: Sequence[str] = (), total: bool = False,
) -> pd.DataFrame:
    """Count rows per period (``keys`` holds each row's period label) and breakdown, zeros included.

    ``labels`` gives each row's breakdown (``breakdowns`` lists every value to
    report, so an empty cell is an explicit 0); ``total`` adds the ``""``
    breakdown over all rows. Without ``labels`` only the total is reported.
    Counted with integer codes and ``bincount``: a crosstab per indicator was most of the step's time.
    """
    key_slot, period_slots, n_periods = _positions(keys, periods)
    per_period = np.bincount(key_slot[key_slot >= 0], minlength=n_periods)
    cells, breakdown_slots = None, []
    if labels is not None:
        label_slot, breakdown_slots, n_breakdowns = _positions(labels, breakdowns)
        both = (key_slot >= 0) & (label_slot >= 0)
        cells = np.bincount(key_slot[both] * n_breakdowns + label_slot[both],
                            minlength=n_periods * n_breakdowns).reshape(n_periods, n_breakdowns)
    return frame(_count_records(indicator, periods, period_slots, per_period, cells, breakdowns, breakdown_slots,
                                labels is None or total))


def monthly_and_yearly(
    indicator: str, dates: pd.Series, months: Sequence[pd.Period], labels: pd.Series | None = None,
    breakdowns: Sequence[str] = (), total: bool = False,
) -> pd.DataFrame:
    """Events dated in each month of the window and each calendar year it touches (``YYYY-MM`` and ``YYYY``).

    Facts after M are already cut away, so the current year is year to date.
    """
    when = as_dates(dates)
    keep = when.notna()
    when, lab = when[keep], (labels[keep] if labels is not None else None)
    year_keys = when.dt.year.astype(str)
    periods_m = [period_label(m) for m in months]
    periods_y = [str(y) for y in years_touched(months)]
    return pd.concat([
        counts(indicator, month_keys(when), periods_m, lab, breakdowns, total),
        counts(indicator, year_keys, periods_y, lab, breakdowns, total),
    ], ignore_index=True)


def open_at(start: np.ndarray, end: np.ndarray, day: pd.Timestamp) -> np.ndarray:
    """Open at the end of ``day``: started on or before it, end empty or later (data contract §1)."""
    day64 = day.to_datetime64()
    return (start <= day64) & (np.isnat(end) | (end > day64))


def stock(
    indicator: str, start: pd.Series, end: pd.Series, months: Sequence[pd.Period],
    labels: pd.Series | None = None, breakdowns: Sequence[str] = (), weights: pd.Series | None = None,
) -> pd.DataFrame:
    """Things open at the end of the last day of each month (weighted sum, e.g. places), total + breakdowns."""
    w = weights.astype(float) if weights is not None else pd.Series(1.0, index=start.index)
    w = w.fillna(0.0).to_numpy()  # a missing weight adds nothing, as in a pandas sum (weights are whole numbers)
    label_slot, slots, n = _positions(labels, breakdowns) if labels is not None else (None, [], 0)
    start64, end64 = start.to_numpy(dtype="datetime64[ns]"), end.to_numpy(dtype="datetime64[ns]")
    records = []
    for m in months:  # numpy arrays and codes, not Series: this runs per month for every stock indicator
        mask = open_at(start64, end64, month_end(m))
        records.append((indicator, period_label(m), "", float(w[mask].sum())))
        if label_slot is not None:
            hit = mask & (label_slot >= 0)
            by = np.bincount(label_slot[hit], weights=w[hit], minlength=n)
            records += [(indicator, period_label(m), b, float(by[j])) for b, j in zip(breakdowns, slots)]
    return frame(records)


def cumulative(indicator: str, dates: pd.Series, months: Sequence[pd.Period]) -> pd.DataFrame:
    """Events dated on or before the end of each month (a cumulative series for target charts)."""
    when = np.sort(as_dates(dates).dropna().to_numpy())
    ends = np.array([month_end(m).to_datetime64() for m in months])
    return frame((indicator, period_label(m), "", float(n))
                 for m, n in zip(months, np.searchsorted(when, ends, side="right")))


@lru_cache(maxsize=1024)
def window_start(month: pd.Period, n_months: int) -> pd.Timestamp:
    """First day of the ``n_months`` window ending with ``month``."""
    return (month - (n_months - 1)).start_time.normalize()


def rolling_counts(
    indicator: str, dates: pd.Series, months: Sequence[pd.Period], first_day: Callable[[pd.Period], pd.Timestamp],
    labels: pd.Series | None = None, breakdowns: Sequence[str] = (), total: bool = False,
) -> pd.DataFrame:
    """Events dated from ``first_day(m)`` to the end of each month ``m`` (12-month windows, year to date)."""
    when = as_dates(dates).to_numpy(dtype="datetime64[ns]")
    label_slot, slots, n = _positions(labels, breakdowns) if labels is not None else (None, [], 0)
    records = []
    for m in months:
        inside = (when >= first_day(m).to_datetime64()) & (when <= month_end(m).to_datetime64())  # NaT: never
        cells = None
        if label_slot is not None:
            cells = np.bincount(label_slot[inside & (label_slot >= 0)], minlength=n).reshape(1, n)
        records += _count_records(indicator, [period_label(m)], [0], np.array([inside.sum()]), cells, breakdowns, slots,
                                  labels is None or total)
    return frame(records)


def year_start(month: pd.Period) -> pd.Timestamp:
    return pd.Timestamp(month.year, 1, 1)


def value_of(table: pd.DataFrame, indicator: str, period: str, breakdown: str = "") -> float:
    """One cell of an indicator table (NaN when absent or suppressed); a repeated cell is an error."""
    row = table.loc[(table["indicator"] == indicator) & (table["period"] == period) & (table["breakdown"] == breakdown), "value"]
    return cell_value(row.to_numpy(dtype=float), indicator, period, breakdown)


def cell_value(values: np.ndarray, indicator: str, period: str, breakdown: str) -> float:
    """The value of one cell from the values of its matching rows: NaN when there are none, an error when repeated."""
    if len(values) > 1:
        raise ValueError(f"{indicator} {period} {breakdown!r}: {len(values)} rows")
    return float(values[0]) if len(values) else float("nan")
