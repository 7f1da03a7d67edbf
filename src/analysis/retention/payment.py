"""Payment capacity (betalingsevne) of tenants housed from homelessness (data contract §4).

The disposable amount is what a tenant has left each month after rent and utilities:
``net_income + housing_benefit + rent_subsidy − rent − utilities``. It is "sufficient"
when it is at least the norm (``payment.disposable_norm``): exactly at the norm counts
as sufficient, because the norm is the amount a person is expected to manage on.

An amount is *unknown* (and left out of every share, never guessed) when the month
has no income record or the dwelling's utilities are unknown. The rent subsidy is the
one recorded at move-in; it is constant through the first four subsidy years, which
cover every offset used here.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from analysis.months import month_end, period_label
from analysis.retention.retention import ALL, cohort, indicator_row

#: Months after the move-in month at which payment capacity is measured, and their breakdown labels.
OFFSETS = {0: "at_move_in", 6: "after_6m", 12: "after_12m"}
INCOME_COLUMNS = ["benefit", "net_income", "housing_benefit", "arrears"]


def disposable(net_income, housing_benefit, rent_subsidy, rent, utilities):
    """Monthly disposable amount after housing costs (works on scalars and aligned Series)."""
    return net_income + housing_benefit + rent_subsidy - rent - utilities


def sufficient(amount: pd.Series, norm: float) -> pd.Series:
    """At or above the norm; unknown amounts stay unknown (NA), so they drop out of shares."""
    return (amount >= norm).astype("boolean").mask(amount.isna())


def payment_panel(tenancies: pd.DataFrame, income: pd.DataFrame, month: pd.Period, norm: float) -> pd.DataFrame:
    """One row per cohort tenancy and offset whose month lies within M and who still lived there then.

    The month at offset k is the calendar month of move-in plus k; the tenant must not
    have moved out before that month began.
    """
    t = cohort(tenancies, month)
    frames = []
    for offset in OFFSETS:
        f = t.copy()
        f["offset"] = offset
        period = f["moved_in"].dt.to_period("M") + offset
        f["month"] = period.dt.strftime("%Y-%m")
        start = period.dt.start_time
        living = f["moved_out"].isna() | (f["moved_out"] >= start)
        frames.append(f[living & (start <= month_end(month))])
    panel = pd.concat(frames, ignore_index=True)
    panel = panel.merge(income[["person_id", "month", *INCOME_COLUMNS]], on=["person_id", "month"], how="left")
    panel["disposable"] = disposable(panel["net_income"], panel["housing_benefit"], panel["rent_subsidy"].fillna(0.0),
                                     panel["rent"], panel["utilities"])
    panel["sufficient"] = sufficient(panel["disposable"], norm)
    return panel


def income_transitions(panel: pd.DataFrame, start: int = 0, end: int = 12) -> pd.DataFrame:
    """Counts of tenancies by main income source at ``start`` (rows) and ``end`` (columns) months after move-in."""
    a = panel[panel["offset"] == start].set_index("allocation_id")["benefit"]
    b = panel[panel["offset"] == end].set_index("allocation_id")["benefit"]
    both = pd.concat({"from": a, "to": b}, axis=1).dropna()
    return pd.crosstab(both["from"], both["to"])


def current_arrears(tenancies: pd.DataFrame, income: pd.DataFrame, month: pd.Period) -> pd.Series:
    """Arrears at the end of M of cohort tenants still living there, where M has an income record."""
    t = cohort(tenancies, month)
    t = t[t["moved_out"].isna()]
    m = t.merge(income[income["month"] == period_label(month)], on="person_id")
    return m.set_index("allocation_id")["arrears"].dropna()


def payment_indicators(tenancies: pd.DataFrame, income: pd.DataFrame, month: pd.Period, params: Mapping) -> pd.DataFrame:
    """Payment-capacity, income-source and arrears figures for M; each share and median next to its base count."""
    period = period_label(month)
    panel = payment_panel(tenancies, income, month, float(params["payment.disposable_norm"]))
    rows: list[dict] = []
    for offset, label in OFFSETS.items():
        known = panel[(panel["offset"] == offset) & panel["disposable"].notna()]
        rows.append(indicator_row("payment_assessed", period, label, len(known)))
        if len(known):
            rows.append(indicator_row("payment_disposable_median", period, label, known["disposable"].median()))
            rows.append(indicator_row("payment_sufficient_share", period, label, known["sufficient"].astype(float).mean()))

    transitions = income_transitions(panel)
    n = int(transitions.to_numpy().sum())
    rows.append(indicator_row("income_transition_tenancies", period, ALL, n))
    if n:
        stayed = sum(transitions.at[s, s] for s in transitions.index if s in transitions.columns)
        rows.append(indicator_row("income_source_changed_share", period, ALL, 1 - stayed / n))
    for name, counts in (("income_source_at_move_in", transitions.sum(axis=1)),
                         ("income_source_after_12m", transitions.sum(axis=0))):
        rows.append(indicator_row(name, period, ALL, n))
        rows.extend(indicator_row(name, period, str(source), count) for source, count in counts.items())

    arrears = current_arrears(tenancies, income, month)
    owing = arrears[arrears > 0]
    rows.append(indicator_row("arrears_tenants_assessed", period, ALL, len(arrears)))
    rows.append(indicator_row("arrears_tenants", period, ALL, len(owing)))
    if len(arrears):
        rows.append(indicator_row("arrears_share", period, ALL, len(owing) / len(arrears)))
    if len(owing):
        rows.append(indicator_row("arrears_median", period, ALL, float(np.median(owing))))
    return pd.DataFrame(rows, columns=["indicator", "period", "breakdown", "value"])
