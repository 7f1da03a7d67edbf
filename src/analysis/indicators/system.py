"""The system view and spor 5's shelter figures: stock, inflow and outflow of §110 episodes.

Flows count episodes and the stock counts open episodes (one per person, since a
person's episodes never overlap), so for every month
``persons_in_shelter(M) − persons_in_shelter(M−1) = inflow(M) − outflow(M)``
holds exactly: an episode open at the end of M either was open at the end of
M−1 or started in M, and it is not open when it ended in M.
"""
from __future__ import annotations

from functools import partial
from typing import Mapping

import numpy as np
import pandas as pd

from analysis.indicators.common import (
    HOUSING_OUTCOMES, counts, frame, history, month_end, month_keys, month_start, rolling_counts, stock, window_start,
)
from analysis.ingest.schemas import DISCHARGE_CATEGORIES
from analysis.months import period_label
from analysis.params import Params

INFLOW = ("new", "returning_from_housing", "returning_other")
OUTFLOW = ("to_housing", "other")


def _in_month(dates: np.ndarray, month: pd.Period) -> np.ndarray:
    return (dates >= month_start(month).to_datetime64()) & (dates <= month_end(month).to_datetime64())


def arrival_type(episodes: pd.DataFrame, params: Params) -> pd.Series:
    """``new`` without an episode in the look-back window before the start, else returning by the previous outcome.

    The previous episode is found in an order by integer person codes and start (sorting and grouping by the
    person_id text was most of the flows' time).
    """
    person = pd.factorize(episodes["person_id"])[0]
    order = np.lexsort((episodes["start"].to_numpy(), person))
    person = person[order]
    has_previous = np.zeros(len(order), dtype=bool)
    has_previous[1:] = (person[1:] == person[:-1]) & (person[1:] >= 0)  # no person (-1) has no history
    previous = np.roll(order, 1)  # row of the episode just before in that order (where there is one)
    lookback = pd.DateOffset(months=int(params["definitions.new_arrival_lookback_months"]))
    earliest = (episodes["start"] - lookback).to_numpy(dtype="datetime64[ns]")[order]
    previous_end = episodes["end"].to_numpy(dtype="datetime64[ns]")[previous]
    recent = has_previous & ~np.isnat(previous_end) & (previous_end >= earliest)
    from_housing = episodes["discharge_category"].isin(HOUSING_OUTCOMES).to_numpy()[previous]
    kind = np.empty(len(order), dtype=object)
    kind[order] = np.where(~recent, "new", np.where(from_housing, "returning_from_housing", "returning_other"))
    return pd.Series(kind, index=episodes.index)


def flows(episodes: pd.DataFrame, month: pd.Period, params: Params) -> pd.DataFrame:
    """Stock, inflow (by arrival type) and outflow (by outcome) per month, with the contract's started/ended ids."""
    months = history(month, params)
    periods = [period_label(m) for m in months]
    ended = episodes[episodes["end"].notna()]
    outcome = pd.Series(np.where(ended["discharge_category"].isin(HOUSING_OUTCOMES), "to_housing", "other"), index=ended.index)
    inflow = counts("inflow", month_keys(episodes["start"]), periods, arrival_type(episodes, params), INFLOW, total=True)
    outflow = counts("outflow", month_keys(ended["end"]), periods, outcome, OUTFLOW, total=True)
    return pd.concat([
        stock("persons_in_shelter", episodes["start"], episodes["end"], months),
        inflow, outflow,
        inflow[inflow["breakdown"] == ""].assign(indicator="episodes_started"),
        outflow[outflow["breakdown"] == ""].assign(indicator="episodes_ended"),
    ], ignore_index=True)


def endings_12m(episodes: pd.DataFrame, month: pd.Period, params: Params) -> pd.DataFrame:
    """Episodes ended in the 12 months up to each month, by discharge category, and their median length."""
    months = history(month, params)
    ended = episodes[episodes["end"].notna()]
    first_day = partial(window_start, n_months=12)
    end, nights = ended["end"].to_numpy(dtype="datetime64[ns]"), ended["nights"].to_numpy(dtype=float)
    medians = []
    for m in months:  # numpy arrays, not Series: this runs once per history month
        inside = nights[(end >= first_day(m).to_datetime64()) & (end <= month_end(m).to_datetime64())]
        medians.append(("episode_length_median_12m", period_label(m), "", np.median(inside) if len(inside) else np.nan))
    return pd.concat([
        rolling_counts("episodes_ended_12m", ended["end"], months, first_day, ended["discharge_category"],
                       DISCHARGE_CATEGORIES, total=True),
        frame(medians),
    ], ignore_index=True)


def frequent_users(episodes: pd.DataFrame, month: pd.Period, params: Params) -> pd.DataFrame:
    """Persons with many episode starts in the window; their admissions (episode starts) and discharges (ends) in the month."""
    window = int(params["definitions.frequent_user_window_months"])
    threshold = int(params["definitions.frequent_user_min_episodes"])
    # person codes and datetime64 arrays: a bincount per month instead of value_counts and isin on Series
    person, persons = pd.factorize(episodes["person_id"])
    known = person >= 0
    start, end = episodes["start"].to_numpy(dtype="datetime64[ns]"), episodes["end"].to_numpy(dtype="datetime64[ns]")
    records = []
    for m in history(month, params):
        started = (start >= window_start(m, window).to_datetime64()) & (start <= month_end(m).to_datetime64())
        starts = np.bincount(person[started & known], minlength=len(persons))
        is_frequent = (starts >= threshold) & (starts > 0)
        frequent = np.append(is_frequent, False)[person]  # code -1 (no person) is never frequent
        p = period_label(m)
        records += [
            ("frequent_users", p, "", int(is_frequent.sum())),
            ("frequent_user_admissions", p, "", int((frequent & _in_month(start, m)).sum())),
            ("frequent_user_discharges", p, "", int((frequent & _in_month(end, m)).sum())),
        ]
    return frame(records)


def shelter_ownership(shelters: pd.DataFrame) -> pd.Series:
    """Ownership per shelter id (its latest register row)."""
    return shelters.sort_values("valid_from").groupby("shelter_id")["ownership"].last()


def discharges_cph_own_shelters(stays: pd.DataFrame, shelters: pd.DataFrame, month: pd.Period, params: Params) -> pd.DataFrame:
    """Discharges (stays) of the home municipality's citizens from its own (kommunal) shelters, by category."""
    own = stays["shelter_id"].map(shelter_ownership(shelters)) == "kommunal"
    home = stays["acting_municipality"].astype(str) == str(params["meta.home_municipality_code"])
    d = stays[own & home & stays["discharged"].notna()]
    months = history(month, params)
    category = d["discharge_category"]
    return pd.concat([
        counts("discharges_cph_own_shelters", month_keys(d["discharged"]), [period_label(m) for m in months],
               category, DISCHARGE_CATEGORIES, total=True),
        rolling_counts("discharges_cph_own_shelters_12m", d["discharged"], months, partial(window_start, n_months=12),
                       category, DISCHARGE_CATEGORIES, total=True),
    ], ignore_index=True)


def build(tables: Mapping[str, pd.DataFrame], month: pd.Period, params: Params) -> pd.DataFrame:
    episodes = tables["episodes"]
    return pd.concat([
        flows(episodes, month, params),
        endings_12m(episodes, month, params),
        frequent_users(episodes, month, params),
        discharges_cph_own_shelters(tables["stays"], tables["shelters"], month, params),
    ], ignore_index=True)
