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


def month_index(dates: pd.Series | pd.DatetimeIndex, origin: pd.Period) -> np.ndarray:
    """Months since ``origin`` as floats (NaN for NaT), so spells compare as integers."""
    d = pd.DatetimeIndex(dates)
    idx = (d.year - origin.year) * 12 + (d.month - origin.month)
    return np.where(d.isna(), np.nan, idx).astype(float)


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
    returning = returning_in_sorted(ep, lookback_months)
    return pd.Series(np.where(returning, "returning", "new"), index=ep.index).reindex(episodes.index)


def returning_in_sorted(ep_sorted: pd.DataFrame, lookback_months: int, by_person=None) -> np.ndarray:
    """``arrival_kind`` == returning, for episodes already sorted by person and start
    (``by_person``: their groupby on person_id, when the caller has made it)."""
    groups = ep_sorted.groupby("person_id", sort=False) if by_person is None else by_person
    prev_end = groups["end"].shift()
    returning = prev_end.notna() & (ep_sorted["start"] - prev_end <= pd.Timedelta(days=round(lookback_months * 30.4375)))
    return returning.to_numpy(bool)


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
    kind = arrival_kind(episodes, lookback_months)
    period = pd.PeriodIndex(episodes["start"], freq="M").strftime("%Y-%m")
    arrivals = pd.crosstab(period, kind).reindex(shelter.index, fill_value=0)
    ended = episodes["end"].notna()
    end_period = pd.PeriodIndex(episodes.loc[ended, "end"], freq="M").strftime("%Y-%m")
    to_housing = episodes.loc[ended, "discharge_category"].isin(HOUSING_CATEGORIES)
    exits = pd.crosstab(end_period, np.where(to_housing, "exits_housing", "exits_other")).reindex(shelter.index, fill_value=0)
    out = shelter.join(arrivals.add_prefix("arrivals_")).join(exits)
    housed = tenancies[tenancies["housed_from_homelessness"].astype(bool)]
    out = out.join(spell_flows(housed["moved_in"], housed["moved_out"], months)[["stock"]].rename(columns={"stock": "housed"}))
    for method, courses in support.groupby("method"):
        out[f"support_{method}"] = spell_flows(courses["start"], courses["end"], months)["stock"]
    for col in ("arrivals_new", "arrivals_returning", "exits_housing", "exits_other"):
        if col not in out:
            out[col] = 0
    return out
