"""Floating support episodes (`bostoette`, §85 / §99) attached to tenancies.

CTI runs about 9 months (three 3-month phases) and often starts in the
shelter before move-in; ICM, ACT and ordinary §85 support run longer. Support
ends with the tenancy ("flyttet", or "doed"); some courses are broken off.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.synthetic.timeline import NA_DAY, Window

DURATION: dict[str, tuple[float, float]] = {"CTI": (270, 0.08), "ICM": (540, 0.4), "ACT": (900, 0.5), "SEL85": (365, 0.6)}
START_BEFORE_MOVE_IN: dict[str, int] = {"CTI": 60, "ICM": 30, "ACT": 30, "SEL85": 30}
PROVIDERS: dict[str, float] = {"kommunal": 0.55, "selvejende": 0.30, "privat": 0.15}
BROKEN_OFF = 0.10
SUPPORT_WINDOW = 30  # days after move-in a support episode may start (data-contract §4)


def build(rng: np.random.Generator, alloc: pd.DataFrame, window: Window) -> pd.DataFrame:
    """One support episode per supported tenancy, cut at the horizon."""
    a = alloc[(alloc.method != "none") & (alloc.moved_in != NA_DAY) & (alloc.moved_in <= window.horizon)]
    n = len(a)
    method = a.method.to_numpy()
    before = np.array([START_BEFORE_MOVE_IN[m] for m in method])
    start = a.moved_in.to_numpy() + (rng.random(n) * (before + SUPPORT_WINDOW)).astype(np.int64) - before
    median = np.array([DURATION[m][0] for m in method])
    sigma = np.array([DURATION[m][1] for m in method])
    length = rng.lognormal(np.log(median), sigma)
    broken = rng.random(n) < BROKEN_OFF
    length[broken] *= rng.uniform(0.2, 0.8, broken.sum())
    end = start + length.astype(np.int64)
    reason = np.where(broken, "afbrudt", "planmaessigt_afsluttet").astype(object)
    moved_out = a.moved_out.to_numpy()
    left = moved_out < end
    end[left] = np.maximum(moved_out[left], start[left])
    reason[left] = np.where(a.moveout_category.to_numpy()[left] == "doed", "doed", "flyttet")
    open_ = end > window.horizon
    end[open_], reason[open_] = NA_DAY, ""
    out = pd.DataFrame({
        "person": a.person.to_numpy(), "metode": method, "leverandoer": rng.choice(list(PROVIDERS), n, p=list(PROVIDERS.values())),
        "start": start, "slut": end, "slutgrund": reason,
    })
    out = out[(out.start <= window.horizon) & (open_ | (out.slut >= window.start))]
    out = out.sort_values(["start", "person"], kind="stable").reset_index(drop=True)
    out.insert(0, "forloeb_id", [f"F{i:06d}" for i in range(1, len(out) + 1)])
    return out
