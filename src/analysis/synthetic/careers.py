"""Shelter careers in relative time: episodes, stays, exits to housing and returns.

A career is simulated per person from arrival (day 0) without a calendar, so
the same draws give the mean nights per person that sets how many people must
arrive to fill the places (Little's law), and are then shifted to arrival days.
The loop runs over episode number, vectorised over everyone still active.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

METHODS: tuple[str, ...] = ("CTI", "ICM", "ACT", "SEL85", "none")
# 12-month housing retention targets per support method (domain-facts.md; SEL85/none assumed).
RETENTION_12M: dict[str, float] = {"CTI": 0.88, "ICM": 0.76, "ACT": 0.90, "SEL85": 0.80, "none": 0.70}
MAX_NIGHTS = 1100  # no single stay longer than about three years
WEIBULL_SHAPE = 0.8  # falling hazard: tenancies that survive the first year rarely break later
MOVEOUT_EVENTS: dict[str, float] = {"udsaettelse": 0.35, "frivillig": 0.33, "botilbud": 0.07, "institution": 0.12, "ukendt": 0.13}
RETURN_AFTER: dict[str, float] = {"udsaettelse": 0.6, "frivillig": 0.4, "botilbud": 0.1, "institution": 0.3, "ukendt": 0.5}
ANDEN_BOLIG_PER_YEAR = 0.05
NON_HOUSING_EXITS: dict[str, float] = {
    "botilbud": 0.07, "familie_venner": 0.20, "behandling": 0.12, "faengsel": 0.06, "doed": 0.01,
    "gaden": 0.12, "ukendt": 0.30, "andet": 0.12,
}


@dataclass(frozen=True)
class Profile:
    """Shelter use of one user type."""

    episodes_base: int
    episodes_extra: float  # Poisson mean on top of the base
    transfer_p: float  # chance that a stay ends in a transfer to another shelter
    one_night: float  # share of one-night stays
    median_nights: float  # median of the other stays
    sigma: float
    gap_min: int  # days between episodes (>= 2 so that episodes do not chain)
    gap_mean: float
    housing_p: float  # chance an episode ends in a tenancy
    death_factor: float
    methods: tuple[float, ...]  # CTI, ICM, ACT, SEL85, none


PROFILES: tuple[Profile, ...] = (
    Profile(1, 0.35, 0.12, 0.40, 40, 1.1, 30, 400, 0.24, 1.0, (0.30, 0.12, 0.05, 0.23, 0.30)),
    Profile(3, 6.0, 0.05, 0.42, 6, 0.9, 3, 25, 0.06, 2.0, (0.30, 0.15, 0.10, 0.20, 0.25)),
    Profile(1, 1.2, 0.30, 0.05, 150, 0.9, 3, 60, 0.12, 4.0, (0.15, 0.20, 0.35, 0.15, 0.15)),
)


def _vec(typ: np.ndarray, field: str) -> np.ndarray:
    return np.array([getattr(p, field) for p in PROFILES])[typ]


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a probability matrix."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    return (rng.random((len(probs), 1)) > cum).sum(axis=1)


def _nights(rng: np.random.Generator, typ: np.ndarray) -> np.ndarray:
    n = len(typ)
    drawn = rng.lognormal(np.log(_vec(typ, "median_nights")), _vec(typ, "sigma"))
    longer = 2 + np.minimum(drawn, MAX_NIGHTS).astype(np.int64)
    return np.where(rng.random(n) < _vec(typ, "one_night"), 1, longer)


def tenancy_duration(rng: np.random.Generator, method: np.ndarray, death_per_year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days until move-out and its category: a Weibull event hazard set by the method's
    12-month retention, competing with death and moves to another dwelling (censored in KM)."""
    n = len(method)
    target = np.array([RETENTION_12M[m] for m in METHODS])[method]
    theta = 12.0 / (-np.log(target)) ** (1 / WEIBULL_SHAPE)
    t_event = theta * rng.weibull(WEIBULL_SHAPE, n) * 30.44
    t_death = rng.exponential(365.25 / death_per_year)
    t_other = rng.exponential(365.25 / ANDEN_BOLIG_PER_YEAR, n)
    events = np.array(list(MOVEOUT_EVENTS))
    cat = events[rng.choice(len(events), n, p=list(MOVEOUT_EVENTS.values()))].astype(object)
    t = t_event.copy()
    cat[t_death < t] = "doed"
    t = np.minimum(t, t_death)
    cat[t_other < t] = "anden_bolig"
    t = np.minimum(t, t_other)
    return np.maximum(t.astype(np.int64), 1), cat


def simulate(rng: np.random.Generator, typ: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stays and tenancies of persons ``0..len(typ)-1`` in days since each person's arrival."""
    n = len(typ)
    n_episodes = _vec(typ, "episodes_base") + rng.poisson(_vec(typ, "episodes_extra"))
    t = np.zeros(n, dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    exit_names = np.array(list(NON_HOUSING_EXITS), dtype=object)
    base_p = np.array(list(NON_HOUSING_EXITS.values()))
    doed = list(NON_HOUSING_EXITS).index("doed")
    stays, tenancies = [], []
    k = 0
    while True:
        act = np.flatnonzero(alive & (k < n_episodes))
        if len(act) == 0:
            break
        ta = typ[act]
        n_stays = np.minimum(rng.geometric(1 - _vec(ta, "transfer_p")), 4)
        ep = np.repeat(np.arange(len(act)), n_stays)
        first = np.r_[True, ep[1:] != ep[:-1]]
        last = np.r_[first[1:], True]
        nights = _nights(rng, ta[ep])
        step = nights + np.where(first, 0, rng.integers(0, 2, len(ep)))
        cs = np.cumsum(step)
        starts = np.flatnonzero(first)
        discharged = t[act][ep] + cs - (cs[starts] - step[starts])[ep]
        admitted = discharged - nights
        ep_start, ep_end = admitted[first], discharged[last]

        housed = rng.random(len(act)) < _vec(ta, "housing_p")
        p = np.tile(base_p, (len(act), 1))
        p[:, doed] *= _vec(ta, "death_factor")
        exit_cat = exit_names[_choice_rows(rng, p)]
        exit_cat[housed] = "bolig"
        stays.append(pd.DataFrame({
            "person": act[ep], "episode": k, "admitted": admitted, "discharged": discharged, "last": last,
            "category": np.where(last, exit_cat[ep], "andet_herberg"),
        }))
        gap = _vec(ta, "gap_min") + rng.exponential(_vec(ta, "gap_mean")).astype(np.int64)
        t[act] = ep_end + gap
        alive[act[exit_cat == "doed"]] = False

        h = act[housed]
        delay = np.select(
            [rng.random(len(h)) < 0.6, rng.random(len(h)) < 0.85],
            [rng.integers(0, 4, len(h)), rng.integers(4, 91, len(h))],
            rng.integers(91, 181, len(h)),
        )
        move_in = ep_end[housed] + delay
        th = typ[h]
        method = _choice_rows(rng, np.array([PROFILES[x].methods for x in range(len(PROFILES))])[th])
        duration, out_cat = tenancy_duration(rng, method, 0.015 * _vec(th, "death_factor"))
        tenancies.append(pd.DataFrame({
            "person": h, "episode": k, "episode_start": ep_start[housed], "episode_end": ep_end[housed],
            "moved_in": move_in, "moved_out": move_in + duration, "method": np.array(METHODS, dtype=object)[method],
            "moveout_category": out_cat,
        }))
        back = np.array([RETURN_AFTER.get(c, 0.0) for c in out_cat]) > rng.random(len(h))
        alive[h[~back]] = False
        t[h[back]] = move_in[back] + duration[back] + rng.integers(1, 121, back.sum())
        n_episodes[h[back]] = np.maximum(n_episodes[h[back]], k + 2)
        k += 1
    return pd.concat(stays, ignore_index=True), pd.concat(tenancies, ignore_index=True)
