"""Vectorised stochastic simulation of the stock-and-flow model (many paths at once).

Time runs in months from the reference month's end. Every compartment is an
integer array with the paths as the first axis, and every flow a binomial (or
Poisson) draw, so flows reconcile with stocks in every path by construction.
One seeded generator per call makes reruns identical.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 30.4375
METHODS = ("CTI", "ICM", "ACT", "SEL85", "none")
S107_BINS = 7  # months 0..5 in §107 plus "6 or more": the 6-month reimbursement window


@dataclass(frozen=True)
class Rates:
    """Monthly transition probabilities and arrival rates (see docs/forecast.md)."""

    entry_exit: np.ndarray  # (S,) an arrival leaves within its arrival month
    exit_hazard: np.ndarray  # (S, D) exit during the month from duration bin d
    dest: np.ndarray  # (S, 4) share of exits to housing, §107, elsewhere (may return), gone
    quick_return: np.ndarray  # (S,) an exit to elsewhere comes back within the same month
    return_hazard: np.ndarray  # (S, K) return from elsewhere by months since exit (K = look-back)
    return_mix: np.ndarray  # (S,) segment of those who come back from elsewhere
    s107_return: float  # return to shelter from §107, per month
    s107_mix: np.ndarray  # (S,) segment of those who return from §107
    new_level: float  # new arrivals per month at the origin (seasonally adjusted)
    new_trend: float  # yearly growth of new arrivals
    seasonal: np.ndarray  # (12,) calendar-month factors, January first
    new_mix: np.ndarray  # (S,) segment of new arrivals
    housing_mix: np.ndarray  # (S,) segment of those who return from housing
    in_out_nights: np.ndarray  # (S,) mean nights of an episode that starts and ends in one month
    method_share: np.ndarray  # (M,) support method of a new tenancy (METHODS order)
    tenancy_share: float  # share of housing exits that become tracked tenancies
    support_end: np.ndarray  # (M,) support course ends, per month ("none": 0)
    housed_return: np.ndarray  # (M,) return to shelter from housing, per month
    housed_leave: np.ndarray  # (M,) other move-outs, per month
    s107_exit: float  # per month
    supply: float  # dwellings per month available to shelter users
    trend_damping: float = 1.0  # yearly damping of the estimated trend (1 = none)


@dataclass
class State:
    """Stocks at the end of the origin month."""

    shelter: np.ndarray  # (S, D) persons by segment and duration bin
    elsewhere: np.ndarray  # (S, K) persons out of shelter, not housed, by months since exit
    s107: np.ndarray  # (S107_BINS,) persons in §107 by months in stay
    housed: np.ndarray  # (M,) tracked tenancies by current support method


@dataclass(frozen=True)
class Knobs:
    """Scenario levers, already resolved to numbers (see scenarios.py)."""

    inflow_factor: float = 1.0
    inflow_growth: float | None = None
    continue_trend: bool = False  # the estimated trend in new arrivals: a scenario, never the baseline
    housing_supply_factor: float = 1.0
    extra_dwellings_per_year: float = 0.0
    long_stay_exit_factor: float = 1.0
    s107_referral_factor: float = 1.0


@dataclass
class Paths:
    """Simulated monthly series, each (paths, months) or (paths, months, methods)."""

    months: pd.PeriodIndex
    series: dict[str, np.ndarray] = field(default_factory=dict)


def limit_months(day_limit: float) -> float:
    return day_limit / DAYS_PER_MONTH


def reimbursable_share(n_bins: int, day_limit: float) -> np.ndarray:
    """Share of a month's nights within the running-year day limit, per extended bin.

    Extended bin 0 holds arrivals (duration 0–0.5 months this month); bin 1+d holds
    stays in duration bin d (0.5+d to 1.5+d months). Continuous stays get the limit
    again every 12 months (sliding running year); the open last bin gets limit/12.
    """
    if not np.isfinite(day_limit):
        return np.ones(n_bins + 1)
    lim = limit_months(day_limit)
    lo = np.r_[0.0, np.arange(n_bins) + 0.5]
    hi = np.r_[0.5, np.arange(n_bins) + 1.5]
    frac = np.empty(n_bins + 1)
    for i, (a, b) in enumerate(zip(lo, hi)):
        grid = np.linspace(a, b, 25)
        frac[i] = np.mean((grid % 12) < lim)
    frac[-1] = min(lim / 12, 1.0)
    return frac


def _split(rng: np.random.Generator, leaving: np.ndarray, p_107: np.ndarray, p_gone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-housing exits by segment into (§107, elsewhere); the rest are gone (died, moved away)."""
    to_107 = rng.binomial(leaving, p_107)
    rest = leaving - to_107
    return to_107, rest - rng.binomial(rest, p_gone)


def _sparse_binomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``rng.binomial(n, p)`` drawn only where n > 0.

    NumPy's generator returns 0 for n = 0 without consuming random numbers, and
    the cells are taken in C order, so this gives exactly the same draws (and
    leaves the generator in the same state) as the dense call; it only saves the
    per-element cost on the many empty cells.
    """
    flat = np.ascontiguousarray(n).reshape(-1)
    cells = np.flatnonzero(flat > 0)  # a boolean mask's positions: faster than indexing with the mask
    out = np.zeros(flat.shape, dtype=np.int64)
    out[cells] = rng.binomial(flat[cells], np.broadcast_to(p, n.shape).reshape(-1)[cells])
    return out.reshape(n.shape)


class _GroupedBinomial:
    """Binomial draws for counts of one shape (paths first) with ``p`` varying over the other axes only.

    Same distribution as ``rng.binomial(n, p)``, drawn faster: only where n > 0, and
    in an order that puts equal (n, p) next to each other (by p, then n), because
    NumPy's binomial sampler skips its set-up when (n, p) repeats the previous draw.
    The draws are independent, so the order changes which random numbers go where,
    not their distribution. ``p`` is the same every month, so its grouping (sort key
    and probability per cell) is made once per simulation rather than per draw.
    """

    def __init__(self, p, shape: tuple[int, ...]):
        self.p = np.broadcast_to(np.asarray(p, dtype=float), shape[1:])
        values, group = np.unique(self.p.reshape(-1), return_inverse=True)
        self.cap = 32767 // len(values) - 1  # the sort key must fit in int16 (NumPy radix-sorts those)
        if self.cap >= 1:
            self.key = np.tile((group * (self.cap + 1)).astype(np.int16), shape[0])  # p's rank, per flat cell
            self.probs = np.tile(self.p.reshape(-1), shape[0])

    def __call__(self, rng: np.random.Generator, n: np.ndarray) -> np.ndarray:
        if self.cap < 1:
            return _sparse_binomial(rng, n, self.p)
        flat = n.reshape(-1)
        idx = np.flatnonzero(flat != 0)  # on a boolean mask: several times faster than on the counts
        cells = idx[np.argsort(self.key[idx] + np.minimum(flat[idx], self.cap).astype(np.int16), kind="stable")]
        out = np.zeros(flat.shape, dtype=np.int64)
        out[cells] = rng.binomial(flat[cells], self.probs[cells])
        return out.reshape(n.shape)


def _per_path(stock: np.ndarray, paths: int) -> np.ndarray:
    """``stock`` for every path: a new int64 array, paths first and each path's cells together.

    The order matters for speed only: ``astype`` on a broadcast keeps its memory order, which
    puts the paths innermost, so every monthly step on such an array strides across memory.
    """
    return np.broadcast_to(stock, (paths, *np.shape(stock))).astype(np.int64, order="C")


def damped_years(months: int, damping: float) -> float:
    """Years of trend growth applied after ``months`` months under a damped trend (Gardner & McKenzie).

    With yearly damping φ < 1 each further month adds φ^(m/12) of a month's growth, so a
    trend estimated from two noisy years levels off instead of compounding to the horizon.
    """
    if damping >= 1.0:
        return months / 12
    phi = damping ** (1 / 12)
    return phi * (1 - phi**months) / (1 - phi) / 12


def simulate(
    rates: Rates,
    state: State,
    months: pd.PeriodIndex,
    day_limits: np.ndarray,
    paths: int,
    seed: int,
    knobs: Knobs = Knobs(),
) -> Paths:
    """Run ``paths`` futures over ``months`` (the months after the origin).

    ``day_limits`` gives the §110 reimbursement day limit in force in each month
    (inf = no limit); the reform lever raises exit hazards beyond it.
    """
    rng = np.random.default_rng(seed)
    n_seg, n_bins = rates.exit_hazard.shape
    T, P = len(months), paths
    shelter = _per_path(state.shelter, P)
    # Those out elsewhere come back at return_hazard and are given a segment by return_mix on return,
    # so when the hazard is the same for every segment (as fit() estimates it, pooled) the pool's
    # segments never matter and it is kept as one row: a sum of binomials with a common p is a
    # binomial of the sum, so the distribution is unchanged and a third of the draws are needed.
    pooled_returns = bool(np.all(rates.return_hazard == rates.return_hazard[:1]))
    return_hazard = rates.return_hazard[:1] if pooled_returns else rates.return_hazard
    pool = state.elsewhere.sum(axis=0, keepdims=True) if pooled_returns else state.elsewhere
    elsewhere = _per_path(pool, P)
    s107 = _per_path(state.s107, P)
    housed = _per_path(state.housed, P)

    dest = rates.dest.copy()
    moved = np.minimum(dest[:, 1] * (knobs.s107_referral_factor - 1), dest[:, 2])
    dest[:, 1] += moved
    dest[:, 2] -= moved
    p_house = dest[:, 0]
    rest = np.clip(1 - p_house, 1e-12, None)
    p_107 = np.clip(dest[:, 1] / rest, 0, 1)
    p_gone = np.clip(dest[:, 3] / np.clip(rest - dest[:, 1], 1e-12, None), 0, 1)
    if knobs.inflow_growth is not None:  # a scenario's own growth is taken as stated
        growth, damping = knobs.inflow_growth, 1.0
    else:
        growth, damping = (rates.new_trend if knobs.continue_trend else 0.0), rates.trend_damping
    supply = rates.supply * knobs.housing_supply_factor + knobs.extra_dwellings_per_year / 12
    none = METHODS.index("none")

    out = {k: np.zeros((P, T)) for k in (
        "shelter_stock", "nights_110", "nights_110_reimbursable", "arrivals_new", "arrivals_returning",
        "exits", "exits_housing", "housing_demand", "s107_stock", "s107_days", "s107_days_reimbursable",
        "s107_entries", "housed_stock")}
    out["housed_by_method"] = np.zeros((P, T, len(METHODS)))
    out["support_starts"] = np.zeros((P, T, len(METHODS)))
    out["arrivals_by_segment"] = np.zeros((P, T, n_seg))
    draw_returns = _GroupedBinomial(return_hazard, elsewhere.shape)
    draw_housing = _GroupedBinomial(p_house[:, None], shelter.shape)
    by_limit: dict[float, tuple[np.ndarray, np.ndarray, _GroupedBinomial]] = {}  # what the day limit decides
    # the month's large arrays are written in place rather than allocated each month: nights by
    # extended bin (bin 0 = arrivals; its nights are not whole, so the per-path sums round in this
    # layout's order) and the stays still in shelter by bin
    nights = np.empty((P, n_seg, n_bins + 1))
    weighted = np.empty_like(nights)
    staying = np.empty_like(shelter)

    for t, month in enumerate(months):
        days = month.days_in_month
        limit = float(day_limits[t])
        if limit not in by_limit:
            frac = reimbursable_share(n_bins, limit)
            # extended bin 0 (arrivals) and the stays' bins; the reform lever raises hazards beyond the limit
            hazard = np.concatenate([rates.entry_exit[:, None], rates.exit_hazard], axis=1)
            if knobs.long_stay_exit_factor != 1 and np.isfinite(limit):
                beyond = frac < 1
                hazard[:, beyond] = 1 - (1 - hazard[:, beyond]) ** knobs.long_stay_exit_factor
            by_limit[limit] = frac, hazard, _GroupedBinomial(hazard[:, 1:], shelter.shape)
        frac, hazard, draw_stays = by_limit[limit]
        # housed: returns, other move-outs, support ending
        back = rng.binomial(housed, rates.housed_return)
        housed -= back
        housed -= rng.binomial(housed, rates.housed_leave)
        ended = rng.binomial(housed, rates.support_end)
        housed -= ended
        housed[:, none] += ended.sum(axis=1)
        from_housing = rng.multinomial(back.sum(axis=1), rates.housing_mix)
        # returns from elsewhere, then ageing of that pool
        returned = draw_returns(rng, elsewhere)
        elsewhere -= returned
        returned = rng.multinomial(returned.sum(axis=(1, 2)), rates.return_mix)
        elsewhere[:, :, 1:] = elsewhere[:, :, :-1]
        elsewhere[:, :, 0] = 0
        lam = (rates.new_level * knobs.inflow_factor * (1 + growth) ** damped_years(t + 1, damping)
               * rates.seasonal[month.month - 1])
        new = rng.poisson(lam * rates.new_mix, size=(P, n_seg))
        back_107 = rng.binomial(s107, rates.s107_return)
        s107 -= back_107
        returning = returned + from_housing + rng.multinomial(back_107.sum(axis=1), rates.s107_mix)
        # shelter: stays (bins 1..D) leave first, so that those who come back within the
        # month join this month's arrivals (extended bin 0)
        leave_s = draw_stays(rng, shelter)
        house_s = draw_housing(rng, leave_s)
        housing_s = house_s.sum(axis=2)
        to107_s, else_s = _split(rng, leave_s.sum(axis=2) - housing_s, p_107, p_gone)
        quick = rng.binomial(else_s, rates.quick_return)
        returning = returning + rng.multinomial(quick.sum(axis=1), rates.return_mix)
        entrants = new + returning
        leave_e = rng.binomial(entrants, hazard[:, 0])
        house_e = rng.binomial(leave_e, p_house)
        to107_e, else_e = _split(rng, leave_e - house_e, p_107, p_gone)
        # arrivals (extended bin 0) and stays are kept apart rather than concatenated every month;
        # only the rationed paths' housing exits are put side by side, in the order they are drawn in
        demand = housing_s.sum(axis=1) + house_e.sum(axis=1)
        cap = rng.poisson(supply, size=P) if np.isfinite(supply) else np.full(P, np.iinfo(np.int64).max)
        rationed = np.flatnonzero(demand > cap)  # on the other paths all are accepted
        wanted = np.concatenate([house_e[rationed, :, None], house_s[rationed]], axis=2)
        accepted = _sparse_binomial(rng, wanted, (cap[rationed] / demand[rationed])[:, None, None])
        refused = wanted - accepted
        leave_e[rationed] -= refused[:, :, 0]
        leave_s[rationed] -= refused[:, :, 1:]
        housed_now = demand.copy()  # those accepted into housing, per path
        housed_now[rationed] = accepted.sum(axis=(1, 2))
        staying_e = entrants - leave_e
        to_107 = to107_s + to107_e
        gone_elsewhere = else_s - quick + else_e
        elsewhere[:, :, 0] = gone_elsewhere.sum(axis=1, keepdims=True) if pooled_returns else gone_elsewhere
        # nights: a full month for those who stay, half for those who leave, so (staying + stock) / 2
        # months in a stay's bin (exact: whole and half nights), the in-out nights for arrivals who leave
        nights[:, :, 0] = 0.5 * staying_e * days + leave_e * rates.in_out_nights
        np.subtract(shelter, leave_s, out=staying)
        np.add(staying, shelter, out=shelter)  # the stock's buffer is free now: it takes staying + stock
        np.multiply(shelter, 0.5 * days, out=nights[:, :, 1:])
        # ageing: stays move up a bin (the open last bin keeps its own), arrivals who stay take bin 0
        shelter[:, :, 1:] = staying[:, :, :-1]
        shelter[:, :, 0] = staying_e
        shelter[:, :, -1] += staying[:, :, -1]
        # §107 stays: 6-month reimbursement window tracked by month bins
        entries_107 = to_107.sum(axis=1)
        leave_107 = rng.binomial(s107, rates.s107_exit)
        s107_days = (s107 - 0.5 * leave_107).sum(axis=1) * days + 0.5 * days * entries_107
        s107_reimb = (s107[:, :-1] - 0.5 * leave_107[:, :-1]).sum(axis=1) * days + 0.5 * days * entries_107
        s107 -= leave_107
        s107[:, -1] += s107[:, -2]
        s107[:, 1:-1] = s107[:, :-2]
        s107[:, 0] = entries_107
        # new tenancies by support method
        tracked = rng.binomial(housed_now, rates.tenancy_share)
        starts = rng.multinomial(tracked, rates.method_share)
        housed += starts

        out["shelter_stock"][:, t] = shelter.sum(axis=(1, 2))
        out["nights_110"][:, t] = nights.sum(axis=(1, 2))
        out["nights_110_reimbursable"][:, t] = np.multiply(nights, frac, out=weighted).sum(axis=(1, 2))
        out["arrivals_new"][:, t] = new.sum(axis=1)
        out["arrivals_returning"][:, t] = returning.sum(axis=1)
        out["exits"][:, t] = leave_s.sum(axis=(1, 2)) + leave_e.sum(axis=1)
        out["exits_housing"][:, t] = housed_now
        out["housing_demand"][:, t] = demand
        out["s107_stock"][:, t] = s107.sum(axis=1)
        out["s107_days"][:, t] = s107_days
        out["s107_days_reimbursable"][:, t] = s107_reimb
        out["s107_entries"][:, t] = entries_107
        out["housed_stock"][:, t] = housed.sum(axis=1)
        out["housed_by_method"][:, t] = housed
        out["support_starts"][:, t] = starts
        out["arrivals_by_segment"][:, t] = new + returning
    return Paths(months, out)
