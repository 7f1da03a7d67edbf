"""Shelter episodes from stays (data-contract §4), vectorised.

Stays are sorted once by person and admission (integer codes, one lexsort); a running maximum of the
discharge date, segmented by person, decides where a new episode begins
(admission more than ``gap_days`` after every earlier discharge of the chain).
A second segmented running maximum, of the covered nights, gives the size of
the union of the stays' nights without expanding them night by night. No
Python loop runs per person, so national-scale data takes seconds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.months import day_after

_DAY = np.timedelta64(1, "D")
_NEVER = np.iinfo(np.int64).min // 4  # "no earlier stay" in day numbers


def _days(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="datetime64[D]").astype(np.int64)


def _segmented_cummax(values: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Running max restarting at each new (ascending) segment code: one accumulate, no groupby."""
    offset = values.min() if len(values) else 0
    span = int(values.max() - offset + 1) if len(values) else 1
    shifted = segment.astype(np.int64) * span + (values - offset)
    return np.maximum.accumulate(shifted) - segment.astype(np.int64) * span + offset


def previous_max(values: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Max of the earlier rows of the same segment (``_NEVER`` for a segment's first row).

    ``values`` are small integers (day numbers) and ``segment`` ascending codes, e.g. persons of rows sorted by them.
    """
    running = _segmented_cummax(values, segment)
    prev = np.empty_like(running)
    prev[0:1] = _NEVER
    prev[1:] = running[:-1]
    first = np.r_[True, segment[1:] != segment[:-1]] if len(segment) else np.zeros(0, bool)
    prev[first] = _NEVER
    return prev


def _sorted_stays(stays: pd.DataFrame, censor: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Stays by person and admission, with day numbers: discharge (open → censor day) and end of nights covered."""
    person = pd.factorize(stays["person_id"], sort=False)[0]  # integer codes sort far faster than text
    admitted = _days(stays["admitted"])
    discharged = _days(stays["discharged"].fillna(censor))
    order = np.lexsort((discharged, admitted, person))
    arrays = {
        "person": person[order],
        "admitted": admitted[order],
        "discharged": discharged[order],
        "covered_to": np.maximum(discharged, admitted + 1)[order],  # nights [admitted, covered_to)
    }
    return stays.take(order).reset_index(drop=True), arrays


def count_overlapping_stays(stays: pd.DataFrame, censor: pd.Timestamp) -> int:
    """Stays sharing a night with an earlier stay of the same person (kept; merged into one episode)."""
    if stays.empty:
        return 0
    _, a = _sorted_stays(stays, censor)
    return int((a["admitted"] < previous_max(a["covered_to"], a["person"])).sum())


def build_episodes(stays: pd.DataFrame, month: pd.Period, gap_days: int) -> pd.DataFrame:
    """Episodes of stays already cut to ``month`` (end dates after M must already be NaT)."""
    censor = day_after(month)
    s, a = _sorted_stays(stays, censor)
    chained_to = previous_max(a["discharged"], a["person"])
    new = (a["admitted"] - chained_to > gap_days) | (chained_to == _NEVER)
    episode = np.cumsum(new) - 1
    covered_before = previous_max(a["covered_to"], episode)
    nights = np.maximum(a["covered_to"] - np.maximum(a["admitted"], covered_before), 0)

    starts = np.flatnonzero(new)
    is_open = s["discharged"].isna().to_numpy()
    # The "last" stay: latest discharge (open = censor day), ties broken by later admission.
    order = np.lexsort((a["admitted"], a["discharged"], episode))
    last = order[np.r_[episode[order][1:] != episode[order][:-1], True]] if len(order) else order
    open_ep = np.bincount(episode, weights=is_open).astype(bool)
    first_rows = s.iloc[starts]
    last_rows = s.iloc[last]
    out = pd.DataFrame({
        "person_id": first_rows["person_id"].to_numpy(),
        "start": first_rows["admitted"].to_numpy(),
        "end": np.where(open_ep, np.datetime64("NaT"), last_rows["discharged"].to_numpy()),
        "nights": np.bincount(episode, weights=nights).astype(np.int64),
        "n_stays": np.bincount(episode).astype(np.int64),
        "discharge_category": last_rows["discharge_category"].where(~open_ep, None).to_numpy(dtype=object),
        "first_shelter_id": first_rows["shelter_id"].to_numpy(),
        "last_shelter_id": last_rows["shelter_id"].to_numpy(),
        "acting_municipality": last_rows["acting_municipality"].to_numpy(),
        "open": open_ep,
    })
    out["end"] = out["end"].astype("datetime64[ns]")
    day_codes, days = pd.factorize(out["start"])  # few distinct days: each formatted once, from its fields
    # (``strftime`` with a format of our own runs per value in Python: most of the episodes' time)
    labels = np.array([f"{y:04d}{m:02d}{d:02d}" for y, m, d in zip(days.year, days.month, days.day)], dtype=object)
    out.insert(0, "episode_id", out["person_id"] + "-" + labels[day_codes])
    return out
