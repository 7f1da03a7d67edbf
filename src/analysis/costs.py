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
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    nights = pd.DataFrame({
        "person_id": np.repeat(episodes["person_id"].to_numpy(), lengths),
        "day": np.repeat(start, lengths) + offsets,
    }).drop_duplicates().sort_values(["person_id", "day"], ignore_index=True)
    in_force = np.datetime64(pd.Timestamp(params["reimbursement.new_rules_from"]).date(), "D")
    nights["after"] = nights["day"].to_numpy("datetime64[D]") >= in_force
    after = nights[nights["after"]]
    pid = after["person_id"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1], True]) if len(after) else np.array([0])
    days = after["day"].to_numpy("datetime64[D]")
    flags = np.concatenate([reimbursed_days(days[lo:hi], params) for lo, hi in zip(bounds[:-1], bounds[1:])] or [np.zeros(0, bool)])
    nights["reimbursable"] = False
    nights.loc[nights["after"], "reimbursable"] = flags
    nights["year"] = pd.DatetimeIndex(nights["day"]).year
    return nights.groupby("year").agg(
        nights_110=("day", "size"), nights_110_after=("after", "sum"), nights_110_reimbursable=("reimbursable", "sum")
    ).astype(float)


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
