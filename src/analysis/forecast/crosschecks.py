"""Cross-checks the report shows beside the forecast.

Little's law (stock = arrivals × mean stay) ties the simulated stock to the
fitted hazards by a route that does not run the simulation, and the history's
flows must add up to its stocks. A forecast that fails either is not shown as
if it were sound.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.forecast.flows import reconciles
from analysis.forecast.simulate import DAYS_PER_MONTH, Paths, Rates


def expected_stay_months(rates: Rates) -> np.ndarray:
    """Mean months in shelter per arrival by segment, from the hazards alone.

    An arrival leaves in its first month with ``entry_exit`` (staying the in-out
    nights); otherwise it spends half a month, then in each bin a full month, or
    half of one in the month it leaves. The last bin is geometric.
    """
    first = rates.in_out_nights / DAYS_PER_MONTH
    h = rates.exit_hazard
    surv = np.cumprod(np.c_[np.ones(len(h)), 1 - h[:, :-1]], axis=1)  # in bin d at its start
    body = (surv[:, :-1] * (1 - h[:, :-1] / 2)).sum(axis=1)
    tail = surv[:, -1] * (1 - h[:, -1] / 2) / np.clip(h[:, -1], 1e-9, None)
    later = 0.5 + body + tail
    return rates.entry_exit * first + (1 - rates.entry_exit) * later


def littles_law_scenarios(results: dict[str, Paths], rates: Rates) -> pd.DataFrame:
    """Per scenario and year: arrivals per month × mean stay vs the simulated mean stock.

    Scenario levers that change stays (the reform) make the ratio drift from 1 by
    design; the report says so.
    """
    stay = expected_stay_months(rates)
    rows = []
    for name, p in results.items():
        years = np.array([m.year for m in p.months])
        arrivals = p.series["arrivals_by_segment"].mean(axis=0)  # months x segments
        stock = p.series["shelter_stock"].mean(axis=0)
        for year in np.unique(years):
            sel = years == year
            lam = arrivals[sel].mean(axis=0)
            rows.append({"scenario": name, "period": str(year), "arrivals_per_month": float(lam.sum()),
                         "mean_stay_months": float((lam * stay).sum() / max(lam.sum(), 1e-9)),
                         "littles_law_stock": float((lam * stay).sum()), "simulated_stock": float(stock[sel].mean())})
    out = pd.DataFrame(rows)
    out["ratio"] = out["simulated_stock"] / out["littles_law_stock"]
    return out


def littles_law_history(episodes: pd.DataFrame, flows: pd.DataFrame) -> pd.DataFrame:
    """Per calendar year: arrivals per month × mean nights of that year's ended episodes
    vs the mean month-end stock (the NAEH shelter-calculator identity)."""
    year = pd.PeriodIndex(flows.index, freq="M").year
    by_year = flows.groupby(year).agg(inflow=("shelter_inflow", "mean"), stock=("shelter_stock", "mean"))
    ended = episodes.dropna(subset=["end"])
    stay = (ended["nights"] / DAYS_PER_MONTH).groupby(ended["end"].dt.year).mean()
    out = by_year.join(stay.rename("mean_stay_months"), how="left")
    out["littles_law_stock"] = out["inflow"] * out["mean_stay_months"]
    out["ratio"] = out["stock"] / out["littles_law_stock"]
    out.index = out.index.astype(str)
    out.index.name = "period"
    return out.reset_index()


def reconciliation(flows: pd.DataFrame) -> pd.DataFrame:
    """Month by month: opening stock + inflow - outflow vs closing stock, for the shelter."""
    shelter = flows[["shelter_stock_start", "shelter_inflow", "shelter_outflow", "shelter_stock"]]
    shelter.columns = ["stock_start", "inflow", "outflow", "stock"]
    out = shelter.reset_index()
    out["difference"] = out["stock"] - (out["stock_start"] + out["inflow"] - out["outflow"])
    out["reconciles"] = reconciles(shelter).to_numpy()
    return out
