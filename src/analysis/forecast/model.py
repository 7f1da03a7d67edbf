"""Estimate the stock-and-flow model's rates and starting stocks from the cleaned tables.

All hazards are discrete-time: the chance of leaving a compartment between two
month ends, counted as events over person-months at risk inside the estimation
window. That is the same clock the simulation runs on, so a model fitted to a
stationary history reproduces it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis.forecast.flows import HOUSING_CATEGORIES, month_numbers, returning_in_sorted
from analysis.forecast.segments import SEGMENTS, episode_segments
from analysis.forecast.simulate import METHODS, S107_BINS, Rates, State
from analysis.months import day_after, month_end

DESTINATIONS = ("housing", "s107", "elsewhere", "gone")
_NAT = np.datetime64("NaT", "ns")
_NEVER = np.datetime64(np.iinfo(np.int64).max, "ns")  # pd.Timestamp.max: "no move-out yet" sorts last
_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class Fitted:
    """A fitted model: rates, the stocks at the end of M, and the origin month."""

    rates: Rates
    state: State
    origin: pd.Period


def discrete_hazard(
    ks: np.ndarray,
    ke: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    n_bins: int,
    last: int,
    window: int,
    event: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Events and month-end transitions at risk, by group and age bin.

    A spell entering in month ``ks`` and leaving in month ``ke`` (NaN = not yet)
    is at risk at each month end j with ks <= j < ke; the transition j -> j+1 is
    observed when j+1 <= ``last`` and counted when j+1 falls in the window. Its
    leaving counts as an event unless ``event`` says it was a censoring.
    """
    ke = np.where(np.isnan(ke), np.inf, ke)
    flag = np.ones(len(ks), bool) if event is None else np.asarray(event, bool)
    lo = np.maximum(ks, last - window)
    n = np.clip(np.minimum(ke, last) - lo, 0, None).astype(int)  # month ends j in [lo, min(ke, last))
    keep = n > 0
    # counted per spell rather than per month at risk: a spell is at risk once at each age from
    # lo - ks to lo - ks + n - 1, so the bins below the last count the spells whose range covers
    # them (a running sum of starts minus stops) and the last bin all ages from n_bins - 1 on
    g = group[keep].astype(int)
    first = (lo - ks)[keep].astype(int)
    stop = first + n[keep]
    size = n_groups * n_bins
    edges = (np.bincount(g * n_bins + np.minimum(first, n_bins - 1), minlength=size)
             - np.bincount(g * n_bins + np.minimum(stop, n_bins - 1), minlength=size))
    exposure = np.cumsum(edges.reshape(n_groups, n_bins), axis=1).astype(float)
    exposure[:, -1] = np.bincount(g, weights=np.maximum(stop - np.maximum(first, n_bins - 1), 0), minlength=n_groups)
    # the transition j -> j + 1 = ke that ends a spell is an event when j is one of its month ends at risk
    ended = keep & flag & (ke - 1 >= lo) & (ke - 1 < lo + n)
    cell = group[ended].astype(int) * n_bins + np.minimum(ke[ended] - 1 - ks[ended], n_bins - 1).astype(int)
    events = np.bincount(cell, minlength=size).astype(float).reshape(n_groups, n_bins)
    return events, exposure


def _shrunk(events: np.ndarray, exposure: np.ndarray, prior: float) -> np.ndarray:
    """Bin hazards pulled toward the group's pooled hazard by ``prior`` pseudo months."""
    pooled = (events.sum(axis=1, keepdims=True) + 0.5) / (exposure.sum(axis=1, keepdims=True) + 1)
    return np.clip((events + prior * pooled) / (exposure + prior), 0, 1)


def _shares(counts: np.ndarray, prior: float) -> np.ndarray:
    """Row shares pulled toward the column totals' shares (rows = segments)."""
    overall = (counts.sum(axis=0) + 1e-9) / (counts.sum() + 1e-9 * counts.shape[1])
    smoothed = counts + prior * overall
    return smoothed / smoothed.sum(axis=1, keepdims=True)


def _seasonal_trend(counts: pd.Series, cap: float) -> tuple[float, float, np.ndarray]:
    """Level (per month, at the origin), yearly growth and calendar-month factors."""
    seasonal = np.ones(12)
    if len(counts) >= 24:
        rolling = counts.rolling(12, center=True, min_periods=12).mean()
        ratio = (counts / rolling).dropna()
        by_month = ratio.groupby(ratio.index.month).mean().reindex(range(1, 13)).fillna(1.0)
        seasonal = 1 + 0.5 * (by_month.to_numpy() - 1)  # half-shrunk: monthly noise is large
        seasonal /= seasonal.mean()
    adjusted = counts / seasonal[counts.index.month - 1]
    recent = adjusted.iloc[-36:]
    growth = 0.0
    if len(recent) >= 24 and (recent > 0).all():
        slope = np.polyfit(np.arange(len(recent)), np.log(recent.to_numpy()), 1)[0]
        growth = float(np.clip(np.expm1(12 * slope), -cap, cap))
    level = float(adjusted.iloc[-12:].mean()) * (1 + growth) ** 0.5
    return level, growth, seasonal


def _method_index(methods: pd.Series) -> np.ndarray:
    """Index into ``METHODS`` (-1 for anything else, missing included)."""
    return pd.Index(METHODS).get_indexer(methods)


def _not_yet(ends: np.ndarray, last: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    """End dates after ``last`` cleared (not yet happened at ``last``), and which were."""
    later = ends > last
    return np.where(later, _NAT, ends), later


@dataclass(frozen=True)
class History:
    """What ``fit`` reads from the episodes, tenancies and support tables, as arrays.

    Built once; ``cut`` gives the history as known at an earlier month with masks,
    so the backtest's origins share the sorting by person, the person codes and the
    tenancy-episode merge instead of redoing them on cut frames.
    """

    person: np.ndarray  # episodes, sorted by person then start: person codes
    start: np.ndarray  # datetime64[ns]
    end: np.ndarray  # datetime64[ns], NaT = open
    start_month: np.ndarray  # month_numbers(start)
    end_month: np.ndarray  # month_numbers(end)
    nights: np.ndarray  # float
    dest: np.ndarray  # index into DESTINATIONS
    moved_in: np.ndarray  # tenancies housed from homelessness, table order: datetime64[ns]
    moved_out: np.ndarray
    tenancy_method: np.ndarray  # index into METHODS, "none" for any other
    tenancy_key: np.ndarray  # (person, method) code, compared with support_key
    allocation: np.ndarray  # allocation codes, -1 = missing
    return_allocation: np.ndarray  # episodes that end a tenancy if first (see _tenancy_ends), by allocation, start
    return_start: np.ndarray
    support_start: np.ndarray  # support courses, table order
    support_end: np.ndarray
    support_method: np.ndarray  # index into METHODS, "none" for any other
    support_key: np.ndarray

    @classmethod
    def from_tables(cls, episodes: pd.DataFrame, tenancies: pd.DataFrame, support: pd.DataFrame, params) -> History:
        """The arrays of a month's tables (as ``read_month_tables`` gives them)."""
        person = pd.factorize(episodes["person_id"], sort=True)[0]
        start, end = episodes["start"].to_numpy("datetime64[ns]"), episodes["end"].to_numpy("datetime64[ns]")
        # the order of sort_values(["person_id", "start"]): stable, missing starts last
        order = np.lexsort((np.where(np.isnat(start), _NEVER, start), person))
        cat = episodes["discharge_category"].astype("string")
        dest = np.select(
            [cat.isin(HOUSING_CATEGORIES).to_numpy(bool, na_value=False), (cat == "botilbud").to_numpy(bool, na_value=False),
             (cat == "doed").to_numpy(bool, na_value=False)],
            [DESTINATIONS.index("housing"), DESTINATIONS.index("s107"), DESTINATIONS.index("gone")],
            default=DESTINATIONS.index("elsewhere"))
        ten = tenancies[tenancies["housed_from_homelessness"].astype(bool)]
        allocation = pd.factorize(ten["allocation_id"])[0]
        return_allocation, return_start = _return_candidates(
            ten.assign(_allocation=allocation), episodes, int(params["forecast.housing_return_window_days"]))
        # (person, method) codes over both tables: which tenancies have their method's course open
        people = pd.factorize(pd.concat([ten["person_id"], support["person_id"]], ignore_index=True),
                              use_na_sentinel=False)[0]
        none = METHODS.index("none")
        tenancy_method = _method_index(ten["support_method"])
        tenancy_method[tenancy_method < 0] = none
        support_code = _method_index(support["method"])
        width = len(METHODS) + 1  # method code + 1; 0 = a course method no tenancy has
        return cls(
            person=person[order], start=start[order], end=end[order], start_month=month_numbers(start)[order],
            end_month=month_numbers(end)[order], nights=episodes["nights"].to_numpy(dtype=float)[order], dest=dest[order],
            moved_in=ten["moved_in"].to_numpy("datetime64[ns]"), moved_out=ten["moved_out"].to_numpy("datetime64[ns]"),
            tenancy_method=tenancy_method, tenancy_key=people[:len(ten)] * width + tenancy_method + 1,
            allocation=allocation, return_allocation=return_allocation, return_start=return_start,
            support_start=support["start"].to_numpy("datetime64[ns]"), support_end=support["end"].to_numpy("datetime64[ns]"),
            support_method=np.where(support_code < 0, none, support_code), support_key=people[len(ten):] * width + support_code + 1,
        )

    def cut(self, month: pd.Period) -> History:
        """The history as known at the end of ``month`` (data contract §4): later starts dropped,
        later ends not yet happened, with the discharge category they imply, and nights
        censored at the day after ``month``."""
        last, stop = month_end(month).to_datetime64(), day_after(month).to_datetime64()
        ep, ten, sup = self.start <= last, self.moved_in <= last, self.support_start <= last
        start = self.start[ep]
        end, later = _not_yet(self.end[ep], last)
        nights = np.maximum((np.minimum(np.where(np.isnat(end), stop, end), stop) - start) // _DAY, 1)
        returns = self.return_start <= last
        return replace(
            self, person=self.person[ep], start=start, end=end, start_month=self.start_month[ep],
            end_month=np.where(later, np.nan, self.end_month[ep]), nights=nights.astype(float),
            dest=np.where(later, DESTINATIONS.index("elsewhere"), self.dest[ep]),
            moved_in=self.moved_in[ten], moved_out=_not_yet(self.moved_out[ten], last)[0],
            tenancy_method=self.tenancy_method[ten], tenancy_key=self.tenancy_key[ten], allocation=self.allocation[ten],
            return_allocation=self.return_allocation[returns], return_start=self.return_start[returns],
            support_start=self.support_start[sup], support_end=_not_yet(self.support_end[sup], last)[0],
            support_method=self.support_method[sup], support_key=self.support_key[sup],
        )


def fit(
    episodes: pd.DataFrame,
    tenancies: pd.DataFrame,
    support: pd.DataFrame,
    month: pd.Period,
    params,
) -> Fitted:
    """Fit rates on the ``forecast.estimation_months`` up to M and take the stocks at M."""
    return fit_history(History.from_tables(episodes, tenancies, support, params), month, params)


def fit_history(h: History, month: pd.Period, params) -> Fitted:
    """``fit`` on a history already in arrays (the backtest cuts one history per origin)."""
    W = int(params["forecast.estimation_months"])
    D = int(params["forecast.duration_bins"])
    K = int(params["definitions.new_arrival_lookback_months"])
    prior = float(params["forecast.hazard_prior_months"])
    origin = month - 240
    last = (month - origin).n
    n_seg = len(SEGMENTS)

    seg = episode_segments(h.person, h.start, h.end, month, params)
    ks, ke = h.start_month - origin.ordinal, h.end_month - origin.ordinal
    in_window = (ks > last - W) & (ks <= last)

    # length of stay: exit within the arrival month, then by month-end bins
    arrivals = np.bincount(seg[in_window], minlength=n_seg)
    same = np.bincount(seg[in_window & (ke == ks)], minlength=n_seg)
    entry_exit = (same + 1) / (arrivals + 2)
    lasted = ~(ke <= ks)  # still there at the end of the arrival month (or open)
    ev, ex = discrete_hazard(ks[lasted], ke[lasted], seg[lasted], n_seg, D, last, W)
    exit_hazard = _shrunk(ev, ex, prior)
    in_out_spells = in_window & (ke == ks)
    n_in_out = np.bincount(seg[in_out_spells], minlength=n_seg)
    in_out_total = np.bincount(seg[in_out_spells], weights=h.nights[in_out_spells], minlength=n_seg)
    in_out = np.where(n_in_out > 0, in_out_total / np.maximum(n_in_out, 1), 1.0)  # mean nights, 1 if none

    # where exits go
    ended_in_window = (ke > last - W) & (ke <= last)
    counts = np.zeros((n_seg, len(DESTINATIONS)))
    np.add.at(counts, (seg[ended_in_window], h.dest[ended_in_window]), 1)
    dest = _shares(counts, prior=5)

    # returns: from an episode's end to the person's next start within K months, by months since
    # exit, pooled over segments: a person's segment is known only once their history has
    # unfolded, so segment-specific return rates would be biased low for the current pool.
    # Those who come back are assigned segments in the proportions observed among returners.
    nxt = np.full(len(ks), np.nan)
    has_next = np.flatnonzero(h.person[1:] == h.person[:-1])
    nxt[has_next] = ks[has_next + 1]
    ended = ~np.isnan(ke)
    to_elsewhere = ended & (h.dest == DESTINATIONS.index("elsewhere"))
    quick = to_elsewhere & (nxt == ke)
    seen = to_elsewhere & (ke > last - W) & (ke <= last)
    quick_return = np.full(n_seg, ((seen & quick).sum() + 0.5) / (seen.sum() + 1))
    pooled, _ = _return_hazard(ke, nxt, to_elsewhere & ~quick, K, K, last, W, prior)
    return_hazard = np.repeat(pooled, n_seg, axis=0)
    came_back = to_elsewhere & (nxt - ke <= K) & (nxt > last - W) & (nxt <= last)
    return_mix = np.bincount(seg[came_back], minlength=n_seg) + 1.0
    return_mix /= return_mix.sum()
    _, s107_return = _return_hazard(ke, nxt, ended & (h.dest == DESTINATIONS.index("s107")), K, 1, last, W, prior)
    s107_mix = counts[:, 1] + 1.0
    s107_mix /= s107_mix.sum()

    # arrivals: new arrivals by month (returning ones come from the model's own pools)
    new = ~returning_in_sorted(h.person, h.start, h.end, K)
    n_months = max(W, 36)
    recent_new = new & (ks > last - n_months) & (ks <= last)
    new_by_month = pd.Series(
        np.bincount((ks[recent_new] - (last - n_months + 1)).astype(int), minlength=n_months).astype(float),
        index=pd.period_range(month - n_months + 1, month, freq="M").to_timestamp())
    level, trend, seasonal = _seasonal_trend(new_by_month, float(params["forecast.trend_cap"]))
    # the mix comes from arrivals old enough to have shown chronic use; recent ones all look transitional
    lag = int(np.ceil(float(params["forecast.chronic_min_nights"]) / 30.4375))
    seasoned = (ks > last - W - lag) & (ks <= last - lag) & new
    new_mix = np.bincount(seg[seasoned], minlength=n_seg) + 1.0
    new_mix /= new_mix.sum()
    housing_mix = counts[:, 0] + 1.0
    housing_mix /= housing_mix.sum()

    housing_exits = (h.dest == DESTINATIONS.index("housing")) & ended_in_window
    housing = _housing_rates(h, housing_exits.sum(), origin, last, W)
    s107_exit = 1 - np.exp(-1 / float(params["forecast.s107_mean_stay_months"]))
    recent = housing_exits & (ke > last - 12)
    supply = recent.sum() / 12 * float(params["forecast.housing_supply_headroom"])

    rates = Rates(
        entry_exit=entry_exit, exit_hazard=exit_hazard, dest=dest, quick_return=quick_return, return_hazard=return_hazard,
        return_mix=return_mix,
        s107_return=s107_return, s107_mix=s107_mix,
        new_level=level, new_trend=trend, seasonal=seasonal, new_mix=new_mix, housing_mix=housing_mix,
        in_out_nights=in_out, **housing.rates, s107_exit=float(s107_exit), supply=float(supply),
        trend_damping=float(params["forecast.trend_damping"]),
    )
    state = _state_at(h, ks, ke, seg, nxt, housing, last, D, K, s107_exit)
    entry_mix = np.bincount(seg[(ks > last - W - lag) & (ks <= last - lag)], minlength=n_seg) + 1.0
    state.shelter = _unfold_segments(state.shelter, entry_mix / entry_mix.sum(), entry_exit, exit_hazard)
    return Fitted(rates, state, month)


@dataclass(frozen=True)
class _Housing:
    """Housing rates plus what the stocks at M need: the month each tracked tenancy
    moved in and the month it leaves the housed compartments (from the origin)."""

    rates: dict
    moved_in: np.ndarray
    leaves: np.ndarray


def _housing_rates(h: History, housing_exits: int, origin: pd.Period, last: int, W: int) -> _Housing:
    """Support-method mix, move-outs, returns and support ends of tenancies housed from homelessness."""
    m_idx = h.tenancy_method
    t_ks = month_numbers(h.moved_in) - origin.ordinal
    window_moves = (t_ks > last - W) & (t_ks <= last)
    method_share = np.bincount(m_idx[window_moves], minlength=len(METHODS)) + 0.5
    method_share /= method_share.sum()
    tenancy_share = float(min(1.0, window_moves.sum() / max(housing_exits, 1)))
    t_end, returned = _tenancy_ends(h)
    t_ke = t_end - origin.ordinal
    ev, ex = discrete_hazard(t_ks, t_ke, m_idx, len(METHODS), 1, last, W)
    ev_ret, _ = discrete_hazard(t_ks, t_ke, m_idx, len(METHODS), 1, last, W, event=returned)
    housed_return = (ev_ret[:, 0] + 0.1) / (ex[:, 0] + 10)
    housed_leave = np.clip((ev[:, 0] - ev_ret[:, 0] + 0.1) / (ex[:, 0] + 10), 0, 1)
    ev, ex = discrete_hazard(month_numbers(h.support_start) - origin.ordinal, month_numbers(h.support_end) - origin.ordinal,
                             h.support_method, len(METHODS), 1, last, W)
    support_end = (ev[:, 0] + 0.5) / (ex[:, 0] + 1)
    support_end[METHODS.index("none")] = 0.0
    rates = {"method_share": method_share, "tenancy_share": tenancy_share, "support_end": support_end,
             "housed_return": housed_return, "housed_leave": housed_leave}
    return _Housing(rates, t_ks, t_ke)


def _return_hazard(ke: np.ndarray, nxt: np.ndarray, spells: np.ndarray, K: int, n_bins: int, last: int,
                   W: int, prior: float) -> tuple[np.ndarray, float]:
    """Monthly chance of a new episode by month since an exit (spells selected, all segments
    together), and the same pooled over months."""
    o_ks = ke[spells]
    o_ke = np.maximum(nxt[spells], o_ks + 1)
    came_back = o_ke - o_ks <= K
    aged_out = np.where(o_ks + K <= last, o_ks + K, np.nan)  # no longer "returning" after K months
    ev, ex = discrete_hazard(o_ks, np.where(came_back, o_ke, aged_out), np.zeros(len(o_ks)), 1, n_bins, last, W,
                             event=came_back)
    return _shrunk(ev, ex, prior), float((ev.sum() + 0.5) / (ex.sum() + 1))


def _return_candidates(ten: pd.DataFrame, episodes: pd.DataFrame, window_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Episodes that would end a tenancy as a return if they were its first: starting after
    move-in and before move-out + ``window_days``; their allocation codes (``ten["_allocation"]``)
    and starts, sorted by allocation then start.

    Cutting the history to an earlier month only drops candidates that start after it (a
    move-out cleared by the cut lies after every start kept), so this merge is made once.
    """
    starts = episodes[["person_id", "start"]].rename(columns={"start": "ep_start"})
    pairs = ten[["_allocation", "person_id", "moved_in", "moved_out"]].merge(starts, on="person_id", how="left")
    limit = pairs["moved_out"] + pd.Timedelta(days=window_days)
    hit = (pairs["ep_start"] > pairs["moved_in"]) & (limit.isna() | (pairs["ep_start"] <= limit)) & (pairs["_allocation"] >= 0)
    allocation = pairs.loc[hit, "_allocation"].to_numpy()
    start = pairs.loc[hit, "ep_start"].to_numpy("datetime64[ns]")
    order = np.lexsort((start, allocation))
    return allocation[order], start[order]


def _tenancy_ends(h: History) -> tuple[np.ndarray, np.ndarray]:
    """Month number a tracked tenancy leaves the housed compartments, and whether by a return.

    It ends at the first new episode after move-in when that starts before
    move-out + ``forecast.housing_return_window_days`` (a return), else at move-out.
    """
    first = np.ones(len(h.return_allocation), bool)
    first[1:] = h.return_allocation[1:] != h.return_allocation[:-1]
    size = int(max(h.allocation.max(initial=-1), h.return_allocation.max(initial=-1))) + 1
    first_return = np.full(size + 1, _NAT)  # the extra last slot answers allocation -1 (missing): none
    first_return[h.return_allocation[first]] = h.return_start[first]
    ret = first_return[h.allocation]
    returned = ~np.isnat(ret)
    end = np.where(returned & (ret < np.where(np.isnat(h.moved_out), _NEVER, h.moved_out)), ret, h.moved_out)
    return month_numbers(end), returned


def _unfold_segments(shelter: np.ndarray, entry_mix: np.ndarray, entry_exit: np.ndarray, hazard: np.ndarray) -> np.ndarray:
    """Re-split the open stays not yet known to be chronic by how long they have lasted.

    At M a stay that will become chronic still looks transitional (too few nights
    so far), and transitional hazards would empty it too fast. Among stays that
    have lasted d months, segment s has weight entry share × chance of lasting d
    months under s's hazards (Bayes); known chronic stays stay chronic.
    """
    chronic = SEGMENTS.index("chronic")
    survive = (1 - entry_exit)[:, None] * np.cumprod(np.c_[np.ones(len(hazard)), 1 - hazard[:, :-1]], axis=1)
    weights = entry_mix[:, None] * survive
    weights = weights / weights.sum(axis=0, keepdims=True)
    undecided = np.delete(shelter, chronic, axis=0).sum(axis=0)
    expected = undecided[None, :] * weights
    out = np.floor(expected).astype(np.int64)
    for d in np.flatnonzero(out.sum(axis=0) < undecided):  # largest remainders keep the totals exact
        short = undecided[d] - out[:, d].sum()
        out[np.argsort(out[:, d] - expected[:, d])[:short], d] += 1
    out[chronic] += shelter[chronic]
    return out


def _state_at(h: History, ks: np.ndarray, ke: np.ndarray, seg: np.ndarray, nxt: np.ndarray, housing: _Housing,
              last: int, D: int, K: int, s107_exit: float) -> State:
    """Stocks at the end of M in the simulation's compartments."""
    dest = h.dest
    n_seg = len(SEGMENTS)
    is_open = np.isnan(ke) & (ks <= last)
    shelter = np.zeros((n_seg, D), dtype=np.int64)
    np.add.at(shelter, (seg[is_open], np.minimum(last - ks[is_open], D - 1).astype(int)), 1)
    since = last - ke
    out = (dest == 2) & ~np.isnan(ke) & np.isnan(nxt) & (since < K)
    elsewhere = np.zeros((n_seg, K), dtype=np.int64)
    np.add.at(elsewhere, (seg[out], since[out].astype(int)), 1)
    to107 = (dest == 1) & ~np.isnan(ke) & (since < 120)
    expected = np.zeros(S107_BINS)
    np.add.at(expected, np.minimum(since[to107], S107_BINS - 1).astype(int), (1 - s107_exit) ** (since[to107] + 0.5))
    s107 = np.round(expected).astype(np.int64)
    t_ks, t_ke = housing.moved_in, housing.leaves
    open_ten = (t_ks <= last) & (np.isnan(t_ke) | (t_ke > last))
    has = np.isin(h.tenancy_key, h.support_key[np.isnat(h.support_end)])  # the course of its method is open
    method_now = np.where(has, h.tenancy_method, METHODS.index("none"))
    housed = np.bincount(method_now[open_ten], minlength=len(METHODS)).astype(np.int64)
    return State(shelter=shelter, elsewhere=elsewhere, s107=s107, housed=housed)
