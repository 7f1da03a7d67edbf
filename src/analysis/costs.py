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

from collections import deque

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


def reimbursed_days(days: np.ndarray, params) -> np.ndarray:
    """Which of one person's shelter nights the new rule reimburses.

    ``days`` are sorted unique dates (datetime64[D]). A night is reimbursed when
    fewer nights than the limit in force were reimbursed in the 364 days before it
    (a sliding running year); nights before the new rules count neither way.
    """
    steps = [(np.datetime64(s.date(), "D"), d) for s, d in day_limits(params)]
    start = np.datetime64(pd.Timestamp(params["reimbursement.new_rules_from"]).date(), "D")
    out = np.zeros(len(days), dtype=bool)
    window: deque[np.datetime64] = deque()
    one_year = np.timedelta64(365, "D")
    for i, day in enumerate(days):
        if day < start:
            continue
        while window and window[0] <= day - one_year:
            window.popleft()
        limit = next((d for s, d in reversed(steps) if day >= s), np.inf)
        if len(window) < limit:
            window.append(day)
            out[i] = True
    return out


def _reimbursed_by_person(person: np.ndarray, days: np.ndarray, params) -> np.ndarray:
    """``reimbursed_days`` for many persons at once: rows sorted by person, then day
    (unique days per person, all on or after ``reimbursement.new_rules_from``).

    Until a person's nights in the running year (the night itself and the 364 days
    before it) first reach the limit in force, every night is reimbursed, so that
    prefix is found without a loop; only from there on does the sliding running
    year of *reimbursed* nights need the night-by-night walk of ``reimbursed_days``.
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
    day_list, limit_list = d.tolist(), limit.tolist()
    for f in starts.tolist():
        window = deque(day_list[lo[f]:f])  # all reimbursed so far
        flags = []
        for i in range(f, int(ends[group[f]])):
            day = day_list[i]
            while window and window[0] <= day - 365:
                window.popleft()
            if len(window) < limit_list[i]:
                window.append(day)
                flags.append(True)
            else:
                flags.append(False)
        out[f:f + len(flags)] = flags
    return out


def shelter_nights(episodes: pd.DataFrame, month: pd.Period, params) -> pd.DataFrame:
    """§110 nights per calendar year: all, in the new-rule period, and reimbursable there.

    Nights are a person's union of episode nights (data contract §4), open
    episodes censored at the first day after M.
    """
    stop = np.datetime64(day_after(month).date(), "D")
    start = episodes["start"].to_numpy("datetime64[D]")
    end = episodes["end"].fillna(day_after(month)).to_numpy("datetime64[D]")
    end = np.minimum(np.maximum(end, start + 1), stop)
    lengths = np.clip((end - start).astype(int), 0, None)
    columns = ["nights_110", "nights_110_after", "nights_110_reimbursable"]
    if lengths.sum() == 0:
        return pd.DataFrame(columns=columns, index=pd.Index([], dtype=np.int32, name="year"), dtype=float)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    # each (person, night) once, sorted by person then night: one integer key per night
    person, _ = pd.factorize(episodes["person_id"], sort=True, use_na_sentinel=False)
    first = start.astype(np.int64)
    d0 = int(first[lengths > 0].min())
    span = int(end.astype(np.int64).max()) - d0 + 1
    key = np.sort(np.repeat(person.astype(np.int64) * span + (first - d0), lengths) + offsets)
    key = key[np.r_[True, key[1:] != key[:-1]]]
    who, day = key // span, key % span + d0
    in_force = np.datetime64(pd.Timestamp(params["reimbursement.new_rules_from"]).date(), "D").astype(np.int64)
    after = day >= in_force
    reimbursable = np.zeros(len(day), dtype=bool)
    reimbursable[after] = _reimbursed_by_person(who[after], day[after].astype("datetime64[D]"), params)
    year = day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    slot = year - year.min()
    table = pd.DataFrame({
        "nights_110": np.bincount(slot),
        "nights_110_after": np.bincount(slot, weights=after),
        "nights_110_reimbursable": np.bincount(slot, weights=reimbursable),
    }, index=pd.Index((np.arange(slot.max() + 1) + year.min()).astype(np.int32), name="year"))
    return table[table["nights_110"] > 0].astype(float)


def _overlap_days_by_year(lo: pd.Series, hi: pd.Series, years, weight: pd.Series | None = None) -> pd.Series:
    """Days of [lo, hi) falling in each calendar year, summed over rows (times ``weight``)."""
    out = {}
    for year in years:
        a = lo.clip(lower=pd.Timestamp(year, 1, 1))
        b = hi.clip(upper=pd.Timestamp(year + 1, 1, 1))
        days = (b - a).dt.days.clip(lower=0)
        out[year] = float((days if weight is None else days * weight).sum())
    return pd.Series(out, dtype=float)


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
