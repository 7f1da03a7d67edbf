"""The system view and spor 5's shelter figures: stock, inflow and outflow of §110 episodes.

Flows count episodes and the stock counts open episodes (one per person, since a
person's episodes never overlap), so for every month
``persons_in_shelter(M) − persons_in_shelter(M−1) = inflow(M) − outflow(M)``
holds exactly: an episode open at the end of M either was open at the end of
M−1 or started in M, and it is not open when it ended in M.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from analysis.indicators.common import (
    HOUSING_OUTCOMES, counts, frame, history, month_keys, rolling_counts, stock, window_start,
)
from analysis.ingest.schemas import DISCHARGE_CATEGORIES
from analysis.months import month_end, month_start, period_label
from analysis.params import Params

INFLOW = ("new", "returning_from_housing", "returning_other")
OUTFLOW = ("to_housing", "other")


def _in_month(dates: np.ndarray, month: pd.Period) -> np.ndarray:
    return (dates >= month_start(month).to_datetime64()) & (dates <= month_end(month).to_datetime64())


def arrival_type(episodes: pd.DataFrame, params: Params) -> pd.Series:
    """``new`` without an episode in the look-back window before the start, else returning by the previous outcome."""
    e = episodes.sort_values(["person_id", "start"])
    by_person = e.groupby("person_id")
    prev_end, prev_category = by_person["end"].shift(), by_person["discharge_category"].shift()
    lookback = pd.DateOffset(months=int(params["definitions.new_arrival_lookback_months"]))
    recent = prev_end.notna() & (prev_end >= e["start"] - lookback)
    kind = np.where(~recent, "new", np.where(prev_category.isin(HOUSING_OUTCOMES), "returning_from_housing", "returning_other"))
    return pd.Series(kind, index=e.index).reindex(episodes.index)


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
    medians = []
    for m in months:
        inside = (ended["end"] >= first_day(m)) & (ended["end"] <= month_end(m))
        medians.append(("episode_length_median_12m", period_label(m), "", ended.loc[inside, "nights"].median()))
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


def build(tables: dict[str, pd.DataFrame], month: pd.Period, params: Params) -> pd.DataFrame:
    episodes = tables["episodes"]
    return pd.concat([
        flows(episodes, month, params),
        endings_12m(episodes, month, params),
        frequent_users(episodes, month, params),
        discharges_cph_own_shelters(tables["stays"], tables["shelters"], month, params),
    ], ignore_index=True)
