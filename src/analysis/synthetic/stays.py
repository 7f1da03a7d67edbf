"""Shelter stays (`ophold`) on the calendar, sized by Little's law.

Arrivals per day are ``occupancy × §110 places / mean nights per person``, so
places × occupancy × days ≈ person-nights over the whole window; each stay is
placed at a shelter with probability proportional to its places that day
(youth and women's shelters only for those eligible, weighted up so that they
fill like the others).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.synthetic import careers, population
from analysis.synthetic.shelters import Capacity
from analysis.synthetic.timeline import NA_DAY, Window

OCCUPANCY = 0.95
YOUTH_AGE_DAYS = int(30 * 365.25)


def _careers(rng: np.random.Generator, n: int) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    typ = rng.choice(len(population.TYPES), size=n, p=population.TYPE_SHARES)
    stays, tenancies = careers.simulate(rng, typ)
    return typ, stays, tenancies


def _take(frame: pd.DataFrame, n: int, offset: int = 0) -> pd.DataFrame:
    out = frame[frame.person < n].copy()
    out["person"] += offset
    return out


def _arrivals(cum: np.ndarray, quantiles: np.ndarray, first_day: int) -> np.ndarray:
    return first_day + np.searchsorted(cum, quantiles)


def _occupancy(stays: pd.DataFrame, arrival: np.ndarray, window: Window, place_nights: float) -> float:
    """Person-nights from ``window.start`` to the horizon per §110 place-night, arrivals as given."""
    shift = arrival[stays.person.to_numpy()]
    lo = np.maximum(stays.admitted.to_numpy() + shift, window.start)
    hi = np.minimum(stays.discharged.to_numpy() + shift, window.horizon + 1)
    return float(np.clip(hi - lo, 0, None).sum()) / place_nights


def populate(rng: np.random.Generator, window: Window, capacity: Capacity) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Persons, stays and tenancies (absolute days) that keep the §110 places about 95 % full.

    The arrival count comes from the mean nights per career, then is corrected once by
    the occupancy those arrivals actually give inside the window: careers with returns
    after long tenancies spread nights over decades, beyond any burn-in.
    """
    places = capacity.total().astype(float)
    cum = np.cumsum(places) / places.sum()
    place_nights = places[window.start - capacity.first_day:].sum()
    guess = int(OCCUPANCY * places.sum() / 60) + 100
    typ, stays, tenancies = _careers(rng, guess)
    first = int(round(OCCUPANCY * places.sum() * guess / (stays.discharged - stays.admitted).sum()))
    trial = _occupancy(_take(stays, first), _arrivals(cum, (np.arange(first) + 0.5) / first, capacity.first_day), window, place_nights)
    needed = int(round(first * OCCUPANCY / trial))
    if needed > guess:
        typ2, stays2, ten2 = _careers(rng, needed - guess)
        typ = np.r_[typ, typ2]
        stays = pd.concat([stays, _take(stays2, needed - guess, guess)], ignore_index=True)
        tenancies = pd.concat([tenancies, _take(ten2, needed - guess, guess)], ignore_index=True)
    else:
        typ, stays, tenancies = typ[:needed], _take(stays, needed), _take(tenancies, needed)

    arrival = _arrivals(cum, np.sort(rng.random(needed)), capacity.first_day)
    persons = population.shelter_users(rng, arrival, typ)
    for frame, cols in ((stays, ("admitted", "discharged")), (tenancies, ("episode_start", "episode_end", "moved_in", "moved_out"))):
        shift = arrival[frame.person.to_numpy()]
        for c in cols:
            frame[c] = frame[c].to_numpy() + shift
    stays = stays[stays.admitted <= window.horizon].reset_index(drop=True)
    stays["herberg_id"] = _place(rng, stays, persons, capacity)
    return persons, stays, tenancies


def _place(rng: np.random.Generator, stays: pd.DataFrame, persons: pd.DataFrame, capacity: Capacity) -> np.ndarray:
    """Shelter of each stay; a transfer goes to another shelter than the stay before it."""
    p = stays.person.to_numpy()
    adm = stays.admitted.to_numpy()
    young = (adm - persons.birth.to_numpy()[p]) < YOUTH_AGE_DAYS
    female = ~persons.male.to_numpy()[p]
    nights = (stays.discharged - stays.admitted).to_numpy()
    weight = capacity.on(adm).astype(float)
    for col, target in enumerate(capacity.target):
        eligible = young if target == "unge" else female if target == "kvinder" else None
        if eligible is not None:
            weight[:, col] *= np.where(eligible, nights.sum() / max(nights[eligible].sum(), 1), 0.0)
    cum = np.cumsum(weight, axis=1)
    ids = np.asarray(capacity.ids, dtype=object)

    def draw() -> np.ndarray:
        return (rng.random((len(p), 1)) * cum[:, -1:] > cum).sum(axis=1)

    choice = draw()
    transfer = np.r_[False, (p[1:] == p[:-1]) & (stays.episode.to_numpy()[1:] == stays.episode.to_numpy()[:-1])]
    same = transfer & (choice == np.r_[-1, choice[:-1]])
    choice[same] = draw()[same]
    return ids[choice]


def to_extract(stays: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Stays as the shelter system holds them at the horizon: open stays have no discharge yet."""
    out = stays[(stays.discharged >= window.start)].copy()
    open_ = out.discharged.to_numpy() > window.horizon
    out.loc[open_, "discharged"] = NA_DAY
    out.loc[open_, "category"] = ""
    return out.reset_index(drop=True)
