"""Gross cost, state reimbursement and net municipal cost of §110, §107 and §85a support.

Law no. 482/2023 limits the 50 % reimbursement of §110 stays to 120 days per
running year from 1 October 2023 and 90 days from 1 April 2026, and adds
reimbursement for §107 stays (first 6 months) and §85a Housing First support
(up to 2 years after discharge). The "meromkostning" management asks for is the
net cost under the rules in force minus the net cost had the old rule (no day
limit) continued. Rules and day rates come from ``reimbursement.*``,
``day_rates.*`` and ``forecast.old_rule_*``.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right

import numpy as np
import pandas as pd

from analysis.months import day_after

DAYS_PER_MONTH = 30.4375


def day_limits(params) -> list[tuple[pd.Timestamp, int]]:
    """The §110 day limits per running year with the date each takes effect, oldest first."""
    steps = [(pd.Timestamp(d["from"]), int(d["days"])) for d in params["reimbursement.shelter_day_limits"]]
    return sorted(steps)


def limit_on(day: pd.Timestamp, params) -> float:
    """Day limit in force on ``day``; infinite before the new rules."""
    limit = np.inf
    for start, days in day_limits(params):
        if day >= start:
            limit = days
    return limit


def limits_by_month(months: pd.PeriodIndex, params) -> np.ndarray:
    """Limit in force on the first day of each month (the rule changes on a 1st)."""
    return np.array([limit_on(m.start_time, params) for m in months], dtype=float)


def reimbursed_nights(person: np.ndarray, days: np.ndarray, params) -> np.ndarray:
    """Which shelter nights the new rule reimburses; rows sorted by person, then day (unique per person).

    A night is reimbursed when fewer nights than the limit in force were reimbursed
    in the 364 days before it (a sliding running year); nights before the new rules
    count neither way.
    """
    in_force = np.datetime64(pd.Timestamp(params["reimbursement.new_rules_from"]).date(), "D")
    counted = days.astype("datetime64[D]") >= in_force
    out = np.zeros(len(days), dtype=bool)
    out[counted] = _running_year(person[counted], days[counted], params)
    return out


def _running_year(person: np.ndarray, days: np.ndarray, params) -> np.ndarray:
    """``reimbursed_nights`` for nights all on or after ``reimbursement.new_rules_from``.

    Until a person's nights in the running year (the night itself and the 364 days
    before it) first reach the limit in force, every night is reimbursed, so that
    prefix is found without a loop; only from there on does the sliding running
    year of *reimbursed* nights needs a walk. The walk visits
    the reimbursed nights only: once the year is full, no night is reimbursed before
    the oldest night that keeps it full leaves it, or before the limit changes, so it
    jumps there.
    """
    n = len(days)
    out = np.ones(n, dtype=bool)
    if n == 0:
        return out
    d = days.astype("datetime64[D]").astype(np.int64)
    first = np.r_[True, person[1:] != person[:-1]]
    group = np.cumsum(first) - 1
    ends = np.r_[np.flatnonzero(first)[1:], n]  # one past each person's last row, by group
    key = group * 10_000_000 + d  # sorted: persons are contiguous, days ascending within each
    lo = np.searchsorted(key, key - 364, side="left")  # earliest night of the same person in the running year
    steps = day_limits(params)
    step_days = np.array([np.datetime64(s.date(), "D").astype(np.int64) for s, _ in steps], dtype=np.int64)
    step_limits = np.array([float(v) for _, v in steps] + [np.inf])
    limit = step_limits[np.searchsorted(step_days, d, side="right") - 1]  # index -1 (before any step): inf
    reached = np.flatnonzero(np.arange(n) - lo >= limit)
    if reached.size == 0:
        return out
    starts = reached[np.r_[True, group[reached][1:] != group[reached][:-1]]]
    day_list, limit_list, step_list = d.tolist(), limit.tolist(), step_days.tolist()
    for f in starts.tolist():
        end = int(ends[group[f]])
        out[f:end] = False
        window = day_list[lo[f]:f]  # reimbursed nights, oldest first; those of the running year from ``head``
        head, i, paid = 0, f, []
        while i < end:
            day, cap = day_list[i], limit_list[i]
            head = bisect_right(window, day - 365, head)
            if len(window) - head < cap:
                window.append(day)
                paid.append(i)
                i += 1
                continue
            # the year stays full until its cap-th latest night leaves it (for good under a limit of 0)
            resume = window[len(window) - int(cap)] + 365 if cap >= 1 else np.inf
            k = bisect_right(step_list, day)
            if k < len(step_list):
                resume = min(resume, step_list[k])
            i = bisect_left(day_list, resume, i + 1, end)
        out[paid] = True
    return out


def _night_runs(person: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each person's nights as disjoint runs [begin, finish) of day numbers, sorted by person
    then night: the union of their episodes' nights (``start`` < ``end``) without expanding
    them night by night."""
    order = np.lexsort((start, person))
    person, start, end = person[order], start[order], end[order]
    # one running maximum of the end for all persons: each person's days are shifted past the last one's
    offset = person.astype(np.int64) * (int(end.max()) - int(start.min()) + 1)
    reach = np.maximum.accumulate(end + offset)
    new = np.r_[True, start[1:] + offset[1:] > reach[:-1]]
    firsts = np.flatnonzero(new)
    lasts = np.r_[firsts[1:] - 1, len(start) - 1]
    return person[firsts], start[firsts], reach[lasts] - offset[firsts]


def shelter_nights(episodes: pd.DataFrame, month: pd.Period, params) -> pd.DataFrame:
    """§110 nights per calendar year: all, in the new-rule period, and reimbursable there.

    Nights are a person's union of episode nights (data contract §4), open
    episodes censored at the first day after M. Counts come from the union's runs;
    only the new-rule period's nights are expanded one by one, for the running-year limit.
    """
    stop = np.datetime64(day_after(month).date(), "D")
    start = episodes["start"].to_numpy("datetime64[D]")
    end = episodes["end"].fillna(day_after(month)).to_numpy("datetime64[D]")
    end = np.minimum(np.maximum(end, start + 1), stop)
    lengths = np.clip((end - start).astype(int), 0, None)
    columns = ["nights_110", "nights_110_after", "nights_110_reimbursable"]
    if lengths.sum() == 0:
        return pd.DataFrame(columns=columns, index=pd.Index([], dtype=np.int32, name="year"), dtype=float)
    person, _ = pd.factorize(episodes["person_id"], sort=True, use_na_sentinel=False)
    some = lengths > 0
    who, begin, finish = _night_runs(person[some], start[some].astype(np.int64), end[some].astype(np.int64))
    # persons in shelter per day (the runs of one person are disjoint), then per year
    d0, span = int(begin.min()), int(finish.max() - begin.min())
    in_shelter = np.cumsum(np.bincount(begin - d0, minlength=span + 1) - np.bincount(finish - d0, minlength=span + 1))[:span]
    year = (np.arange(d0, d0 + span).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)
    slot = year - year[0]
    in_force = np.datetime64(pd.Timestamp(params["reimbursement.new_rules_from"]).date(), "D").astype(np.int64)
    after = np.arange(d0, d0 + span) >= in_force
    # the new-rule period's nights, night by night, sorted by person then night
    first = np.maximum(begin, in_force)
    n = np.clip(finish - first, 0, None)
    night = np.repeat(first, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    reimbursed = night[_running_year(np.repeat(who, n), night.astype("datetime64[D]"), params)]
    table = pd.DataFrame({
        "nights_110": np.bincount(slot, weights=in_shelter),
        "nights_110_after": np.bincount(slot, weights=in_shelter * after),
        "nights_110_reimbursable": np.bincount(slot[reimbursed - d0], minlength=slot[-1] + 1),
    }, index=pd.Index((np.arange(slot[-1] + 1) + year[0]).astype(np.int32), name="year"))
    return table[table["nights_110"] > 0].astype(float)


def _overlap_days_by_year(lo: pd.Series, hi: pd.Series, years, weight: pd.Series | None = None) -> pd.Series:
    """Days of [lo, hi) falling in each calendar year, summed over rows (times ``weight``);
    all years at once. Rows missing a date (or the weight) count nothing."""
    years = np.asarray(list(years), dtype=np.int64)
    lo_ns, hi_ns = lo.to_numpy("datetime64[ns]"), hi.to_numpy("datetime64[ns]")
    w = np.ones(len(lo)) if weight is None else weight.to_numpy(dtype=float, na_value=np.nan)
    valid = ~np.isnat(lo_ns) & ~np.isnat(hi_ns) & ~np.isnan(w)
    empty = np.datetime64(0, "ns")  # an empty span for the rows that count nothing
    lo_ns, hi_ns = np.where(valid, lo_ns, empty)[None, :], np.where(valid, hi_ns, empty)[None, :]
    first = (years - 1970).astype("datetime64[Y]").astype("datetime64[ns]")[:, None]
    after = (years + 1 - 1970).astype("datetime64[Y]").astype("datetime64[ns]")[:, None]
    days = np.clip((np.minimum(hi_ns, after) - np.maximum(lo_ns, first)) // np.timedelta64(1, "D"), 0, None)
    return pd.Series((days * np.where(valid, w, 0.0)).sum(axis=1), index=years, dtype=float)  # (years, rows)


def support_months(support: pd.DataFrame, episodes: pd.DataFrame, month: pd.Period, params) -> pd.DataFrame:
    """Housing First support months per year: all, in the new-rule period, and reimbursable
    there (within ``reimbursement.support_85a_years_after_discharge`` years after the
    person's latest §110 discharge before the course started)."""
    methods = list(params["forecast.housing_first_methods"])
    stop = day_after(month)
    sup = support[support["method"].isin(methods)].copy()
    sup["stop"] = sup["end"].fillna(stop).clip(upper=stop) + pd.Timedelta(days=1)
    sup["stop"] = sup["stop"].clip(upper=stop)
    ends = episodes.dropna(subset=["end"])[["person_id", "end"]].sort_values("end")
    sup = pd.merge_asof(sup.sort_values("start"), ends.rename(columns={"end": "discharged"}),
                        left_on="start", right_on="discharged", by="person_id", direction="backward")
    in_force = pd.Timestamp(params["reimbursement.new_rules_from"])
    years_after = pd.DateOffset(years=int(params["reimbursement.support_85a_years_after_discharge"]))
    if sup.empty:
        return pd.DataFrame(columns=["support_months", "support_months_after", "support_months_reimbursable"], dtype=float)
    years = range(int(sup["start"].dt.year.min()), stop.year + 1)
    after_lo = sup["start"].clip(lower=in_force)
    window_hi = (sup["discharged"] + years_after).fillna(pd.Timestamp("1900-01-01"))  # no discharge: nothing reimbursed
    table = pd.DataFrame({
        "support_months": _overlap_days_by_year(sup["start"], sup["stop"], years),
        "support_months_after": _overlap_days_by_year(after_lo, sup["stop"], years),
        "support_months_reimbursable": _overlap_days_by_year(after_lo, sup["stop"].where(sup["stop"] < window_hi, window_hi), years),
    }) / DAYS_PER_MONTH
    table.index.name = "year"
    return table


def cost_table(volumes: pd.DataFrame, params) -> pd.DataFrame:
    """Gross cost, reimbursement and net cost per year and area, old rule vs the rules in force.

    ``volumes`` has one row per year (index) with nights_110, nights_110_after,
    nights_110_reimbursable, days_107, days_107_after, days_107_reimbursable,
    support_months, support_months_after, support_months_reimbursable ("after" =
    in the new-rule period; "reimbursable" = within the new limits).
    Returns long rows: year, area (110/107/85a), gross, reimbursement_old,
    reimbursement_new, net_old, net_new, extra_cost.
    """
    rate = float(params["reimbursement.rate"])
    support_rates = params["day_rates.support_per_month"]
    hf_rate = float(np.mean([support_rates[m] for m in params["forecast.housing_first_methods"]]))
    areas = {
        "110": ("nights_110", float(params["day_rates.shelter_110_per_night"]), float(params["reimbursement.old_rule_shelter_rate"])),
        "107": ("days_107", float(params["day_rates.s107_per_day"]), float(params["forecast.old_rule_s107_rate"])),
        "85a": ("support_months", hf_rate, float(params["forecast.old_rule_support_rate"])),
    }
    rows = []
    for area, (col, price, old_rate) in areas.items():
        total, after, within = (volumes[c].astype(float) for c in (col, f"{col}_after", f"{col}_reimbursable"))
        gross = total * price
        old = gross * old_rate
        new = (total - after) * price * old_rate + within * price * rate
        rows.append(pd.DataFrame({
            "year": volumes.index, "area": area, "gross": gross.to_numpy(), "reimbursement_old": old.to_numpy(),
            "reimbursement_new": new.to_numpy(), "net_old": (gross - old).to_numpy(), "net_new": (gross - new).to_numpy(),
        }))
    table = pd.concat(rows, ignore_index=True)
    table["extra_cost"] = table["net_new"] - table["net_old"]
    return table


def history_volumes(
    episodes: pd.DataFrame, support: pd.DataFrame, shelters: pd.DataFrame, month: pd.Period, params
) -> pd.DataFrame:
    """Volumes per year from the registers. §107 has no stay register: its days are
    the valid §107 places × target occupancy, and the share within the first 6 months
    assumes exponential stays with mean ``forecast.s107_mean_stay_months``."""
    nights = shelter_nights(episodes, month, params)
    support_vol = support_months(support, episodes, month, params)
    years = nights.index
    occupancy = float(params["targets.shelter_occupancy"])
    in_force = pd.Timestamp(params["reimbursement.new_rules_from"])
    share_6m = 1 - np.exp(-float(params["reimbursement.s107_months_within_year"]) / float(params["forecast.s107_mean_stay_months"]))
    s107 = shelters[shelters["paragraph"].astype(str) == "107"]
    stop = day_after(month)
    lo, hi = s107["valid_from"], (s107["valid_to"] + pd.Timedelta(days=1)).fillna(stop).clip(upper=stop)
    days = _overlap_days_by_year(lo, hi, years, s107["places"])
    after = _overlap_days_by_year(lo.clip(lower=in_force), hi, years, s107["places"])
    vol = nights.copy()
    vol["days_107"] = days * occupancy
    vol["days_107_after"] = after * occupancy
    vol["days_107_reimbursable"] = vol["days_107_after"] * share_6m
    return vol.join(support_vol, how="left").fillna(0.0)
