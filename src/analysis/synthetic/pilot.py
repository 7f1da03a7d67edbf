"""The udslusningsbolig pilot, calibrated to the February 2023 memo.

Data-contract §2: the pilot is the udslusningsbolig referrals on or after the
pilot start; a person counts once, from the earliest such referral, and has
moved in when a tenancy starts between that referral and the end of the
period. The memo: by the end of February 2023, 29 referred and 14 moved in;
all 50 referred during spring 2023. Outside the pilot window the scheme runs
at its natural rate (housing.UDSLUSNING_SHARE).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.params import Params
from analysis.synthetic.timeline import Window, day

MEMO_END = "2023-02-28"
SPRING_END = "2023-05-31"
REFERRED_BY_MEMO, MOVED_IN_BY_MEMO = 29, 14


def window_days(params: Params) -> tuple[int, int, int]:
    """Pilot start, end of the memo month and end of spring 2023 as day numbers."""
    return day(str(params["pilot.start_date"])), day(MEMO_END), day(SPRING_END)


def applies(window: Window, params: Params) -> bool:
    """The exact targets are only built when the extract covers the whole pilot window."""
    start, _, spring = window_days(params)
    return window.start <= start and window.horizon >= spring


def calibrate(rng: np.random.Generator, alloc: pd.DataFrame, window: Window, scale: float, params: Params) -> None:
    """Choose which shelter-pathway tenancies are pilot udslusningsboliger (sets ``boligtype``)."""
    if not applies(window, params):
        return
    start, memo_end, spring = window_days(params)
    referred = alloc.referred.to_numpy()
    moved_in = alloc.moved_in.to_numpy()
    kind = alloc.boligtype.to_numpy().copy()
    in_window = (referred >= start) & (referred <= spring)
    kind[in_window & (kind == "udslusning")] = "familie"
    single = alloc.groupby("person").person.transform("size").to_numpy() == 1
    cand = in_window & single & (alloc.pathway.to_numpy() == "shelter") & (kind == "familie")
    total = int(round(float(params["targets.pilot_places"]) * scale))
    by_memo = int(round(REFERRED_BY_MEMO * scale))
    moved = int(round(MOVED_IN_BY_MEMO * scale))
    groups = (
        (cand & (referred <= memo_end) & (moved_in <= memo_end), moved),
        (cand & (referred <= memo_end) & (moved_in > memo_end), by_memo - moved),
        (cand & (referred > memo_end), total - by_memo),
    )
    for mask, n in groups:
        idx = np.flatnonzero(mask)
        kind[rng.choice(idx, min(n, len(idx)), replace=False)] = "udslusning"
    alloc["boligtype"] = kind


def pilot_persons(alloc: pd.DataFrame, params: Params) -> np.ndarray:
    """Persons with an udslusningsbolig referral on or after the pilot start (their rows are protected)."""
    start = day(str(params["pilot.start_date"]))
    hit = (alloc.boligtype.to_numpy() == "udslusning") & (alloc.referred.to_numpy() >= start)
    return np.unique(alloc.person.to_numpy()[hit])
