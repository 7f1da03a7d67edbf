"""Referrals to housing and housing services (`indstillinger`).

Every allocation of a shelter user starts with a referral from the shelter;
most other households are referred too. Stays ending in a botilbud were
referred to §107/§108; some people still in a shelter at the horizon wait on
a referral. Waiting udslusningsbolig referrals avoid the pilot window, whose
referrals are built exactly by ``analysis.synthetic.pilot``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.params import Params
from analysis.synthetic import pilot
from analysis.synthetic.timeline import NA_DAY, Window

SCHEME_OF_DWELLING: dict[str, str] = {"udslusning": "udslusningsbolig", "skaev": "skaev_bolig"}
WAITING_SHARE = 0.15


def _from_allocations(alloc: pd.DataFrame) -> pd.DataFrame:
    a = alloc[alloc.referred != NA_DAY]
    return pd.DataFrame({
        "person": a.person.to_numpy(), "indstillet": a.referred.to_numpy(),
        "ordning": [SCHEME_OF_DWELLING.get(k, "boligsocial_anvisning") for k in a.boligtype],
        "herberg_id": a.herberg_id.to_numpy(),
    })


def _to_care(rng: np.random.Generator, stays: pd.DataFrame) -> pd.DataFrame:
    s = stays[stays.category == "botilbud"]
    n = len(s)
    return pd.DataFrame({
        "person": s.person.to_numpy(),
        "indstillet": np.maximum(s.discharged.to_numpy() - rng.integers(5, 91, n), s.admitted.to_numpy()),
        "ordning": np.where(rng.random(n) < 0.6, "botilbud_107", "botilbud_108"),
        "herberg_id": s.herberg_id.to_numpy(),
    })


def _waiting(rng: np.random.Generator, stays: pd.DataFrame, alloc: pd.DataFrame, window: Window, params: Params) -> pd.DataFrame:
    open_ = stays[(stays.discharged > window.horizon) & ~stays.person.isin(alloc.person)]
    s = open_[rng.random(len(open_)) < WAITING_SHARE]
    n = len(s)
    when = np.maximum(window.horizon - rng.integers(0, 121, n), s.admitted.to_numpy())
    scheme = rng.choice(["boligsocial_anvisning", "skaev_bolig", "udslusningsbolig"], n, p=[0.7, 0.15, 0.15]).astype(object)
    start, _, spring = pilot.window_days(params)
    scheme[(scheme == "udslusningsbolig") & (when >= start) & (when <= spring)] = "boligsocial_anvisning"
    return pd.DataFrame({"person": s.person.to_numpy(), "indstillet": when, "ordning": scheme, "herberg_id": s.herberg_id.to_numpy()})


def build(rng: np.random.Generator, alloc: pd.DataFrame, stays: pd.DataFrame, window: Window, params: Params) -> pd.DataFrame:
    """All referrals dated within the window, in date order, with ids."""
    out = pd.concat([_from_allocations(alloc), _to_care(rng, stays), _waiting(rng, stays, alloc, window, params)], ignore_index=True)
    out = out[(out.indstillet >= window.start) & (out.indstillet <= window.horizon)]
    out = out.sort_values(["indstillet", "person"], kind="stable").reset_index(drop=True)
    out.insert(0, "indstilling_id", [f"I{i:06d}" for i in range(1, len(out) + 1)])
    return out
