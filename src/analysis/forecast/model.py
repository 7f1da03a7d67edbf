"""Estimate the stock-and-flow model's rates and starting stocks from the cleaned tables.

All hazards are discrete-time: the chance of leaving a compartment between two
month ends, counted as events over person-months at risk inside the estimation
window. That is the same clock the simulation runs on, so a model fitted to a
stationary history reproduces it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.forecast.flows import HOUSING_CATEGORIES, month_index, returning_in_sorted
from analysis.forecast.segments import SEGMENTS, episode_segments
from analysis.forecast.simulate import METHODS, S107_BINS, Rates, State

DESTINATIONS = ("housing", "s107", "elsewhere", "gone")


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
    rep = np.repeat(np.arange(len(ks))[keep], n[keep])
    offset = np.arange(rep.size) - np.repeat(np.cumsum(n[keep]) - n[keep], n[keep])
    j = lo[rep] + offset
    age = np.minimum(j - ks[rep], n_bins - 1).astype(int)
    is_event = (ke[rep] == j + 1) & flag[rep]
    cell = group[rep].astype(int) * n_bins + age
    size = n_groups * n_bins
    exposure = np.bincount(cell, minlength=size).astype(float).reshape(n_groups, n_bins)
    events = np.bincount(cell, weights=is_event, minlength=size).reshape(n_groups, n_bins)
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


def fit(
    episodes: pd.DataFrame,
    tenancies: pd.DataFrame,
    support: pd.DataFrame,
    month: pd.Period,
    params,
) -> Fitted:
    """Fit rates on the ``forecast.estimation_months`` up to M and take the stocks at M."""
    W = int(params["forecast.estimation_months"])
    D = int(params["forecast.duration_bins"])
    K = int(params["definitions.new_arrival_lookback_months"])
    prior = float(params["forecast.hazard_prior_months"])
    origin = month - 240
    last = (month - origin).n
    n_seg = len(SEGMENTS)

    ep = episodes.copy()
    ep["segment"] = episode_segments(ep, month, params)
    seg = ep["segment"].map({s: i for i, s in enumerate(SEGMENTS)}).to_numpy()
    ks, ke = month_index(ep["start"], origin), month_index(ep["end"], origin)
    in_window = (ks > last - W) & (ks <= last)

    # length of stay: exit within the arrival month, then by month-end bins
    arrivals = np.bincount(seg[in_window], minlength=n_seg)
    same = np.bincount(seg[in_window & (ke == ks)], minlength=n_seg)
    entry_exit = (same + 1) / (arrivals + 2)
    lasted = ~(ke <= ks)  # still there at the end of the arrival month (or open)
    ev, ex = discrete_hazard(ks[lasted], ke[lasted], seg[lasted], n_seg, D, last, W)
    exit_hazard = _shrunk(ev, ex, prior)
    in_out_spells = in_window & (ke == ks)
    in_out = (pd.Series(ep["nights"].to_numpy(dtype=float)[in_out_spells]).groupby(seg[in_out_spells]).mean()
              .reindex(range(n_seg), fill_value=1.0).to_numpy())

    # where exits go
    ended_in_window = (ke > last - W) & (ke <= last)
    cat = ep["discharge_category"].astype("string")
    dest_of = np.select(
        [cat.isin(HOUSING_CATEGORIES).to_numpy(bool, na_value=False), (cat == "botilbud").to_numpy(bool, na_value=False),
         (cat == "doed").to_numpy(bool, na_value=False)],
        [0, 1, 3], default=2)
    counts = np.zeros((n_seg, len(DESTINATIONS)))
    np.add.at(counts, (seg[ended_in_window], dest_of[ended_in_window]), 1)
    dest = _shares(counts, prior=5)

    # returns: from an episode's end to the person's next start within K months, by months since
    # exit, pooled over segments: a person's segment is known only once their history has
    # unfolded, so segment-specific return rates would be biased low for the current pool.
    # Those who come back are assigned segments in the proportions observed among returners.
    ep_sorted = ep.assign(_ks=ks, _ke=ke, _dest=dest_of, _seg=seg).sort_values(["person_id", "start"])
    by_person = ep_sorted.groupby("person_id", sort=False)
    nxt = by_person["_ks"].shift(-1).to_numpy()
    o_ke = ep_sorted["_ke"].to_numpy()
    ended = ~np.isnan(o_ke)
    to_elsewhere = ended & (ep_sorted["_dest"].to_numpy() == 2)
    quick = to_elsewhere & (nxt == o_ke)
    seen = to_elsewhere & (o_ke > last - W) & (o_ke <= last)
    quick_return = np.full(n_seg, ((seen & quick).sum() + 0.5) / (seen.sum() + 1))
    pooled, _ = _return_hazard(ep_sorted, nxt, to_elsewhere & ~quick, K, K, last, W, prior)
    return_hazard = np.repeat(pooled, n_seg, axis=0)
    came_back = to_elsewhere & (nxt - o_ke <= K) & (nxt > last - W) & (nxt <= last)
    return_mix = np.bincount(ep_sorted["_seg"].to_numpy().astype(int)[came_back], minlength=n_seg) + 1.0
    return_mix /= return_mix.sum()
    _, s107_return = _return_hazard(ep_sorted, nxt, ended & (ep_sorted["_dest"].to_numpy() == 1), K, 1, last, W, prior)
    s107_mix = counts[:, 1] + 1.0
    s107_mix /= s107_mix.sum()

    # arrivals: new arrivals by month (returning ones come from the model's own pools)
    # arrival_kind(ep, K), from the sort and grouping already made
    kind = pd.Series(np.where(returning_in_sorted(ep_sorted, K, by_person), "returning", "new"),
                     index=ep_sorted.index).reindex(ep.index)
    months = pd.period_range(month - max(W, 36) + 1, month, freq="M")
    new_by_month = (
        pd.Series(1, index=pd.PeriodIndex(ep.loc[kind == "new", "start"], freq="M"))
        .groupby(level=0).sum().reindex(months, fill_value=0).astype(float)
    )
    new_by_month.index = new_by_month.index.to_timestamp()
    level, trend, seasonal = _seasonal_trend(new_by_month, float(params["forecast.trend_cap"]))
    # the mix comes from arrivals old enough to have shown chronic use; recent ones all look transitional
    lag = int(np.ceil(float(params["forecast.chronic_min_nights"]) / 30.4375))
    seasoned = (ks > last - W - lag) & (ks <= last - lag) & (kind == "new").to_numpy()
    new_mix = np.bincount(seg[seasoned], minlength=n_seg) + 1.0
    new_mix /= new_mix.sum()
    housing_mix = counts[:, 0] + 1.0
    housing_mix /= housing_mix.sum()

    housing_exits = (dest_of == 0) & ended_in_window
    housing = _housing_rates(tenancies, ep, support, housing_exits.sum(), origin, last, W, params)
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
    state = _state_at(ep_sorted, nxt, housing, support, month, origin, D, K, s107_exit)
    entry_mix = np.bincount(seg[(ks > last - W - lag) & (ks <= last - lag)], minlength=n_seg) + 1.0
    state.shelter = _unfold_segments(state.shelter, entry_mix / entry_mix.sum(), entry_exit, exit_hazard)
    return Fitted(rates, state, month)


@dataclass(frozen=True)
class _Housing:
    """Housing rates plus what the stocks at M need: the tracked tenancies, their
    method index and the month each leaves the housed compartments."""

    rates: dict
    tenancies: pd.DataFrame
    method: np.ndarray
    leaves: np.ndarray


def _housing_rates(tenancies: pd.DataFrame, episodes: pd.DataFrame, support: pd.DataFrame, housing_exits: int,
                   origin: pd.Period, last: int, W: int, params) -> _Housing:
    """Support-method mix, move-outs, returns and support ends of tenancies housed from homelessness."""
    ten = tenancies[tenancies["housed_from_homelessness"].astype(bool)].copy()
    method = ten["support_method"].astype(str).where(ten["support_method"].isin(METHODS), "none")
    m_idx = method.map({m: i for i, m in enumerate(METHODS)}).to_numpy()
    t_ks = month_index(ten["moved_in"], origin)
    window_moves = (t_ks > last - W) & (t_ks <= last)
    method_share = np.bincount(m_idx[window_moves], minlength=len(METHODS)) + 0.5
    method_share /= method_share.sum()
    tenancy_share = float(min(1.0, window_moves.sum() / max(housing_exits, 1)))
    t_ke, returned = _tenancy_ends(ten, episodes, origin, int(params["forecast.housing_return_window_days"]))
    ev, ex = discrete_hazard(t_ks, t_ke, m_idx, len(METHODS), 1, last, W)
    ev_ret, _ = discrete_hazard(t_ks, t_ke, m_idx, len(METHODS), 1, last, W, event=returned)
    housed_return = (ev_ret[:, 0] + 0.1) / (ex[:, 0] + 10)
    housed_leave = np.clip((ev[:, 0] - ev_ret[:, 0] + 0.1) / (ex[:, 0] + 10), 0, 1)
    sup_m = support["method"].map({m: i for i, m in enumerate(METHODS)}).fillna(len(METHODS) - 1).astype(int).to_numpy()
    ev, ex = discrete_hazard(month_index(support["start"], origin), month_index(support["end"], origin), sup_m,
                             len(METHODS), 1, last, W)
    support_end = (ev[:, 0] + 0.5) / (ex[:, 0] + 1)
    support_end[METHODS.index("none")] = 0.0
    rates = {"method_share": method_share, "tenancy_share": tenancy_share, "support_end": support_end,
             "housed_return": housed_return, "housed_leave": housed_leave}
    return _Housing(rates, ten, m_idx, t_ke)


def _return_hazard(ep_sorted: pd.DataFrame, nxt: np.ndarray, spells: np.ndarray, K: int, n_bins: int, last: int,
                   W: int, prior: float) -> tuple[np.ndarray, float]:
    """Monthly chance of a new episode by month since an exit (spells selected, all segments
    together), and the same pooled over months."""
    o_ks = ep_sorted["_ke"].to_numpy()[spells]
    o_ke = np.maximum(nxt[spells], o_ks + 1)
    came_back = o_ke - o_ks <= K
    aged_out = np.where(o_ks + K <= last, o_ks + K, np.nan)  # no longer "returning" after K months
    ev, ex = discrete_hazard(o_ks, np.where(came_back, o_ke, aged_out), np.zeros(len(o_ks)), 1, n_bins, last, W,
                             event=came_back)
    return _shrunk(ev, ex, prior), float((ev.sum() + 0.5) / (ex.sum() + 1))


def _tenancy_ends(ten: pd.DataFrame, episodes: pd.DataFrame, origin: pd.Period, window_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Month a tracked tenancy leaves the housed compartments, and whether by a return.

    It ends at the first new episode after move-in when that starts before
    move-out + ``window_days`` (a return), else at move-out.
    """
    starts = episodes[["person_id", "start"]].rename(columns={"start": "ep_start"})
    pairs = ten[["allocation_id", "person_id", "moved_in", "moved_out"]].merge(starts, on="person_id", how="left")
    limit = pairs["moved_out"] + pd.Timedelta(days=window_days)
    hit = (pairs["ep_start"] > pairs["moved_in"]) & (limit.isna() | (pairs["ep_start"] <= limit))
    first_return = pairs[hit].groupby("allocation_id")["ep_start"].min()
    ret = ten["allocation_id"].map(first_return)
    end = ret.where(ret.notna() & (ret < ten["moved_out"].fillna(pd.Timestamp.max)), ten["moved_out"])
    returned = ret.notna().to_numpy()
    return month_index(end, origin), returned


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


def _state_at(ep_sorted, nxt, housing: "_Housing", support, month, origin, D, K, s107_exit) -> State:
    """Stocks at the end of M in the simulation's compartments."""
    last = (month - origin).n
    ks, ke = ep_sorted["_ks"].to_numpy(), ep_sorted["_ke"].to_numpy()
    seg, dest = ep_sorted["_seg"].to_numpy().astype(int), ep_sorted["_dest"].to_numpy()
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
    ten, m_idx, t_ke = housing.tenancies, housing.method, housing.leaves
    t_ks = month_index(ten["moved_in"], origin)
    open_ten = (t_ks <= last) & (np.isnan(t_ke) | (t_ke > last))
    active = support[support["end"].isna()][["person_id", "method"]]
    has = pd.MultiIndex.from_frame(active)
    method_now = np.where(
        pd.MultiIndex.from_arrays([ten["person_id"], pd.Series(METHODS, dtype=object)[m_idx].to_numpy()]).isin(has),
        m_idx, METHODS.index("none"))
    housed = np.bincount(method_now[open_ten], minlength=len(METHODS)).astype(np.int64)
    return State(shelter=shelter, elsewhere=elsewhere, s107=s107, housed=housed)
