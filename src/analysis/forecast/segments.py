"""Transitional / episodic / chronic shelter users (Kuhn & Culhane 1998).

The typology separates the few who use most shelter nights from the many who
pass through once; length of stay and the chance of coming back differ so
much between them that one pooled hazard would forecast the stock badly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.months import day_after

SEGMENTS = ("transitional", "episodic", "chronic")


def person_segments(
    episodes: pd.DataFrame, month: pd.Period, window_months: int, chronic_min_nights: int, episodic_min_episodes: int
) -> pd.Series:
    """Segment of every person with an episode, from their use in the window up to M.

    Chronic: at least ``chronic_min_nights`` nights in the window; episodic: not
    chronic and at least ``episodic_min_episodes`` episodes touching the window;
    transitional: the rest (including persons whose use lies before the window).
    """
    stop = day_after(month)
    start = stop - pd.DateOffset(months=window_months)
    begin = episodes["start"].clip(lower=start)
    end = episodes["end"].fillna(stop).clip(upper=stop)
    nights = (end - begin).dt.days.clip(lower=0)
    touching = episodes["end"].isna() | (episodes["end"] >= start)
    per_person = pd.DataFrame({"person_id": episodes["person_id"], "nights": nights, "n": touching.astype(int)})
    agg = per_person.groupby("person_id").sum()
    seg = np.where(
        agg["nights"] >= chronic_min_nights, "chronic", np.where(agg["n"] >= episodic_min_episodes, "episodic", "transitional")
    )
    return pd.Series(seg, index=agg.index, name="segment")


def episode_segments(episodes: pd.DataFrame, month: pd.Period, params) -> pd.Series:
    """Segment per episode (the person's segment at M), parameters from ``forecast.*``."""
    seg = person_segments(
        episodes,
        month,
        params["forecast.segment_window_months"],
        params["forecast.chronic_min_nights"],
        params["forecast.episodic_min_episodes"],
    )
    return episodes["person_id"].map(seg).rename("segment")
