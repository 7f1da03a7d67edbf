"""The temporary state rent subsidy and what its step-down does to payment capacity.

Schedule (``state_subsidy.*``): 15.000 kr./year at 2021 prices per dwelling, full for
``full_years`` subsidy years, then stepped down in equal parts over ``stepdown_years``.
"Equal parts" has two readings, chosen by ``state_subsidy.stepdown_reading``:

* ``zero_in_final_year`` (default): the subsidy is cut by 1/n at the start of each of
  the n step-down years, so years 5–9 pay 4/5, 3/5, 2/5, 1/5 and 0. It is the literal
  "3.000 kr. less each year" and the cautious reading when judging payment capacity.
* ``zero_after_final_year``: n+1 equal parts, years 5–9 pay 5/6 … 1/6, nothing from year 10.

Subsidy years run from the calendar month of move-in (or from the month the scheme
became usable, if later), whole months, no part-month proration. Each month pays
1/12 of the year's amount at the price level of its calendar year (``price_index.*``).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from analysis.months import month_end, period_label
from analysis.retention.payment import disposable, sufficient
from analysis.retention.retention import ALL, indicator_row

STATE_SCHEME = "midlertidigt_statsligt"
BASE_YEAR = 2021
READINGS = ("zero_in_final_year", "zero_after_final_year")


def subsidy_share(subsidy_year: int, params: Mapping) -> float:
    """Share of the full subsidy paid in subsidy year 1, 2, … (0 before the first and after the last)."""
    full, steps = int(params["state_subsidy.full_years"]), int(params["state_subsidy.stepdown_years"])
    reading = params["state_subsidy.stepdown_reading"]
    if reading not in READINGS:
        raise ValueError(f"state_subsidy.stepdown_reading must be one of {READINGS}, got {reading!r}")
    if 1 <= subsidy_year <= full:
        return 1.0
    k = subsidy_year - full
    if not 1 <= k <= steps:
        return 0.0
    parts = steps if reading == "zero_in_final_year" else steps + 1
    return 1 - k / parts


def price_index(year: int, params: Mapping) -> float:
    """Price-level index (2021 = 1) for a calendar year; grows by ``growth_after_last`` beyond the table."""
    table = {int(y): float(v) for y, v in params["price_index.by_year"].items()}
    last = max(table)
    if year in table:
        return table[year]
    if year > last:
        return table[last] * (1 + float(params["price_index.growth_after_last"])) ** (year - last)
    raise ValueError(f"no price index for {year} (table starts {min(table)})")


def first_subsidy_month(moved_in: pd.Timestamp, params: Mapping) -> pd.Period:
    """Month 1 of subsidy year 1: the move-in month, or the month the scheme became usable if later."""
    return max(pd.Period(moved_in, freq="M"), pd.Period(params["state_subsidy.usable_from"], freq="M"))


def schedule(moved_in: pd.Timestamp, params: Mapping) -> pd.DataFrame:
    """Month-by-month subsidy for one dwelling from its first subsidy month until it has ended."""
    first = first_subsidy_month(moved_in, params)
    years = int(params["state_subsidy.full_years"]) + int(params["state_subsidy.stepdown_years"])
    annual = float(params["state_subsidy.annual_amount_pl2021"])
    rows = []
    for i in range(12 * years):
        month = first + i
        year_no = i // 12 + 1
        share = subsidy_share(year_no, params)
        index = price_index(month.year, params) / price_index(BASE_YEAR, params)
        rows.append({"month": period_label(month), "subsidy_year": year_no, "share": share,
                     "price_index": index, "amount": annual * share * index / 12})
    return pd.DataFrame(rows)


def yearly(sched: pd.DataFrame) -> pd.DataFrame:
    """A schedule summed per subsidy year (first month, share, kroner that year): the view a case worker checks."""
    return sched.groupby("subsidy_year", as_index=False).agg(
        first_month=("month", "first"), share=("share", "first"), amount=("amount", "sum"))


def share_in_month(moved_in: pd.Series, month: pd.Period, params: Mapping) -> pd.Series:
    """Subsidy share in a given calendar month for each move-in date (0 before the first subsidy month, NaN if unknown).

    Same rule as :func:`first_subsidy_month` and :func:`subsidy_share`, worked out on month
    numbers for all tenants at once and once per subsidy year, because the projection asks
    for every tenant in every year and scenario.
    """
    usable = pd.Period(params["state_subsidy.usable_from"], freq="M")
    moved = pd.to_datetime(moved_in, cache=False)  # the parse cache only pays off for repeated strings
    first = np.maximum(moved.dt.year * 12 + moved.dt.month, usable.year * 12 + usable.month)
    months_in = (month.year * 12 + month.month - first).to_numpy(dtype=float)
    year_no = months_in // 12 + 1
    shares = {y: subsidy_share(int(y), params) for y in np.unique(year_no[months_in >= 0])}
    share = [shares.get(y, np.nan) for y in year_no]
    return pd.Series(share, index=moved_in.index, dtype=float).mask(months_in < 0, 0.0)


def current_subsidised(tenancies: pd.DataFrame, income: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    """Tenants living in a state-subsidised dwelling at the end of M, with their income in M (NaN if none)."""
    t = tenancies
    t = t[(t["subsidy_scheme"] == STATE_SCHEME) & t["moved_in"].notna() & (t["moved_in"] <= month_end(month))
          & t["moved_out"].isna()]
    inc = income.loc[income["month"] == period_label(month), ["person_id", "net_income", "housing_benefit"]]
    return t.merge(inc, on="person_id", how="left")


def scenario_label(growth: float) -> str:
    """Breakdown id of an income-growth scenario, e.g. 0.01 -> ``growth_1pct``."""
    return f"growth_{round(growth * 100, 2):g}pct"


def projection(tenancies: pd.DataFrame, income: pd.DataFrame, month: pd.Period, params: Mapping) -> pd.DataFrame:
    """Count and share of today's subsidised tenants below the norm in the same month of each coming year.

    Everything is in today's prices: the subsidy is price-adjusted, so in real terms only
    its share changes; rent, utilities, housing benefit and the norm are held at today's
    real level, and net income grows by each scenario's real rate per year. Tenants with
    no income record in M, or unknown utilities, are left out of the base (not guessed).
    """
    norm = float(params["payment.disposable_norm"])
    full_real = float(params["state_subsidy.annual_amount_pl2021"]) * price_index(month.year, params) / price_index(BASE_YEAR, params) / 12
    years = int(params["state_subsidy.full_years"]) + int(params["state_subsidy.stepdown_years"])
    tenants = current_subsidised(tenancies, income, month)
    known = tenants.dropna(subset=["net_income", "housing_benefit", "rent", "utilities"])
    # The subsidy in year k is the same in every income scenario.
    subsidy = [full_real * share_in_month(known["moved_in"], month + 12 * k, params) for k in range(years + 1)]
    rows = []
    for growth in params["payment.income_growth_scenarios"]:
        for k in range(years + 1):
            at = month + 12 * k
            amount = disposable(known["net_income"] * (1 + float(growth)) ** k, known["housing_benefit"], subsidy[k],
                                known["rent"], known["utilities"])
            below = int((~sufficient(amount, norm).astype(bool)).sum())
            # The median shows the step-down even where no tenant crosses the norm (the share cannot move then).
            rows.append({"year": str(at.year), "scenario": scenario_label(float(growth)), "growth": float(growth),
                         "tenants": len(known), "below_norm": below,
                         "share_below_norm": below / len(known) if len(known) else np.nan,
                         "disposable_median": float(amount.median()) if len(known) else np.nan})
    return pd.DataFrame(rows)


def subsidy_indicators(tenancies: pd.DataFrame, income: pd.DataFrame, month: pd.Period, params: Mapping) -> pd.DataFrame:
    """Subsidised tenants now, the step-down projection per year and scenario, and the full monthly amount per year."""
    rows = [indicator_row("subsidy_tenants", period_label(month), ALL, len(current_subsidised(tenancies, income, month)))]
    proj = projection(tenancies, income, month, params)
    for r in proj.itertuples():
        rows.append(indicator_row("subsidy_projection_base", r.year, r.scenario, r.tenants))
        rows.append(indicator_row("subsidy_projection_below_norm", r.year, r.scenario, r.below_norm))
        if r.tenants:
            rows.append(indicator_row("subsidy_projection_below_norm_share", r.year, r.scenario, r.share_below_norm))
            rows.append(indicator_row("subsidy_projection_disposable_median", r.year, r.scenario, r.disposable_median))
    annual = float(params["state_subsidy.annual_amount_pl2021"])
    for year in sorted(proj["year"].astype(int).unique()):
        rows.append(indicator_row("state_subsidy_full_monthly", str(year), ALL,
                                  annual * price_index(year, params) / price_index(BASE_YEAR, params) / 12))
    return pd.DataFrame(rows, columns=["indicator", "period", "breakdown", "value"])
