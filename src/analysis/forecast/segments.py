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


def episode_segments(person: np.ndarray, start: np.ndarray, end: np.ndarray, month: pd.Period, params) -> np.ndarray:
    """Index into ``SEGMENTS`` of every episode: its person's segment at M, from their use
    in the ``forecast.segment_window_months`` up to M.

    Chronic: at least ``forecast.chronic_min_nights`` nights in the window; episodic:
    not chronic and at least ``forecast.episodic_min_episodes`` episodes touching the
    window; transitional: the rest (including persons whose use lies before the window).
    ``person`` holds integer codes (>= 0), ``start``/``end`` datetime64[ns] (NaT = open):
    arrays, so the backtest's many origins share one factorisation of the person ids.
    """
    stop = day_after(month)
    window_start = (stop - pd.DateOffset(months=params["forecast.segment_window_months"])).to_datetime64()
    begin = np.maximum(start, window_start)
    finish = np.minimum(np.where(np.isnat(end), stop.to_datetime64(), end), stop.to_datetime64())
    nights = np.clip((finish - begin) // np.timedelta64(1, "D"), 0, None)
    touching = np.isnat(end) | (end >= window_start)
    size = int(person.max()) + 1 if len(person) else 0
    per_person_nights = np.bincount(person, weights=nights, minlength=size)
    per_person_episodes = np.bincount(person, weights=touching, minlength=size)
    seg = np.where(per_person_nights >= params["forecast.chronic_min_nights"], SEGMENTS.index("chronic"),
                   np.where(per_person_episodes >= params["forecast.episodic_min_episodes"],
                            SEGMENTS.index("episodic"), SEGMENTS.index("transitional")))
    return seg[person]
