"""Monthly stocks and flows from spell tables (episodes, tenancies, support courses).

A spell is open at the end of day D when it started on or before D and its end
date is empty or later than D (data contract §1). Counting stocks and flows
with that one rule makes stock(t) = stock(t-1) + inflow(t) - outflow(t) hold
exactly, which is the reconciliation the report shows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

HOUSING_CATEGORIES = ("egen_bolig", "udslusningsbolig", "skaev_bolig")


def month_numbers(dates: np.ndarray) -> np.ndarray:
    """Months since 1970-01 (a monthly Period's ordinal) as floats, NaN for NaT (datetime64 input)."""
    months = dates.astype("datetime64[M]").astype(np.int64).astype(float)
    months[np.isnat(dates)] = np.nan
    return months


def month_index(dates: pd.Series | pd.DatetimeIndex, origin: pd.Period) -> np.ndarray:
    """Months since ``origin`` as floats (NaN for NaT), so spells compare as integers."""
    return month_numbers(pd.DatetimeIndex(dates).to_numpy()) - origin.ordinal


def spell_flows(start: pd.Series, end: pd.Series, months: pd.PeriodIndex) -> pd.DataFrame:
    """Stock at month end, inflow and outflow per month for spells [start, end].

    Spells starting before the first month make up the opening stock; ends are
    the last day of the spell (NaT = still open).
    """
    first = months[0]
    ks = month_index(start, first)
    ke = month_index(end, first)
    ke = np.where(np.isnan(ke), np.inf, ke)
    n = len(months)
    inflow = np.bincount(ks[(ks >= 0) & (ks < n)].astype(int), minlength=n)
    outflow = np.bincount(ke[(ke >= 0) & (ke < n)].astype(int), minlength=n)
    opening = int(((ks < 0) & (ke >= 0)).sum())
    stock = opening + np.cumsum(inflow) - np.cumsum(outflow)
    return pd.DataFrame(
        {"stock_start": np.r_[opening, stock[:-1]], "inflow": inflow, "outflow": outflow, "stock": stock},
        index=pd.Index(months.strftime("%Y-%m"), name="period"),
    )


def reconciles(flows: pd.DataFrame) -> pd.Series:
    """Per month: does the stock follow from last month's stock and the flows?"""
    return flows["stock"] == flows["stock_start"] + flows["inflow"] - flows["outflow"]


def history_months(episodes: pd.DataFrame, month: pd.Period, n: int | None = None) -> pd.PeriodIndex:
    """Months from the first episode start (or the last ``n``) up to and including M."""
    if n is None:
        first = pd.Period(episodes["start"].min(), freq="M")
        return pd.period_range(first, month, freq="M")
    return pd.period_range(month - (n - 1), month, freq="M")


def arrival_kind(episodes: pd.DataFrame, lookback_months: int) -> pd.Series:
    """``new`` / ``returning`` per episode: returning when an earlier episode of the
    person ended within the look-back (data contract §4, Arrivals)."""
    ep = episodes.sort_values(["person_id", "start"])
    returning = returning_in_sorted(pd.factorize(ep["person_id"])[0], ep["start"].to_numpy("datetime64[ns]"),
                                    ep["end"].to_numpy("datetime64[ns]"), lookback_months)
    return pd.Series(np.where(returning, "returning", "new"), index=ep.index).reindex(episodes.index)


def returning_in_sorted(person: np.ndarray, start: np.ndarray, end: np.ndarray, lookback_months: int) -> np.ndarray:
    """``arrival_kind`` == returning, for episodes already sorted by person (integer codes,
    -1 = missing) and start; arrays, so the model's fit reuses one sort for every origin."""
    same = np.zeros(len(person), bool)
    same[1:] = (person[1:] == person[:-1]) & (person[1:] >= 0)
    prev_end = np.empty_like(end)
    prev_end[:1] = np.datetime64("NaT")
    prev_end[1:] = end[:-1]
    lookback = np.timedelta64(round(lookback_months * 30.4375), "D")
    return same & ~np.isnat(prev_end) & (start - prev_end <= lookback)


def system_flows(
    episodes: pd.DataFrame,
    tenancies: pd.DataFrame,
    support: pd.DataFrame,
    months: pd.PeriodIndex,
    lookback_months: int,
) -> pd.DataFrame:
    """The Built-for-Zero view by month: shelter stock and flows (arrivals new /
    returning, exits to housing / other), housed-from-homelessness tenancies and
    active support by method."""
    shelter = spell_flows(episodes["start"], episodes["end"], months).add_prefix("shelter_")
    arrivals = _counts_by_month(episodes["start"], arrival_kind(episodes, lookback_months).to_numpy(), months)
    ended = episodes["end"].notna()
    to_housing = episodes.loc[ended, "discharge_category"].isin(HOUSING_CATEGORIES).to_numpy()
    exits = _counts_by_month(episodes.loc[ended, "end"], np.where(to_housing, "exits_housing", "exits_other"), months)
    out = shelter.join(arrivals.add_prefix("arrivals_")).join(exits)
    housed = tenancies[tenancies["housed_from_homelessness"].astype(bool)]
    out = out.join(spell_flows(housed["moved_in"], housed["moved_out"], months)[["stock"]].rename(columns={"stock": "housed"}))
    for method, courses in support.groupby("method"):
        out[f"support_{method}"] = spell_flows(courses["start"], courses["end"], months)["stock"]
    for col in ("arrivals_new", "arrivals_returning", "exits_housing", "exits_other"):
        if col not in out:
            out[col] = 0
    return out


def _counts_by_month(dates: pd.Series, labels: np.ndarray, months: pd.PeriodIndex) -> pd.DataFrame:
    """Rows by month of ``months`` and label, a column per label that occurs (sorted): what
    ``pd.crosstab`` of month and label reindexed to ``months`` gives, by integer counting."""
    pos = month_index(dates, months[0])
    dated = ~np.isnan(pos)
    names, code = np.unique(np.asarray(labels)[dated], return_inverse=True)
    pos = pos[dated]
    inside = (pos >= 0) & (pos < len(months))
    counts = np.zeros((len(months), len(names)), dtype=np.int64)
    np.add.at(counts, (pos[inside].astype(int), code[inside]), 1)
    return pd.DataFrame(counts, index=pd.Index(months.strftime("%Y-%m"), name="period"), columns=names.tolist())
