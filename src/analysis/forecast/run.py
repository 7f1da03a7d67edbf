"""Run every scenario and turn the simulated paths into the published tables.

Tables are long: one row per scenario, period (``YYYY-MM`` or ``YYYY``),
measure and breakdown, with the median, mean and the 50/80/95 % interval
bounds, so the report, the indicator table and the notebook all read one shape.
"""
from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.forecast.costs import cost_table, limits_by_month
from analysis.forecast.model import Fitted
from analysis.forecast.scenarios import Scenario, load_scenarios
from analysis.forecast.simulate import METHODS, Paths, simulate
from analysis.months import month_end, parse_month

SUPPORT_METHODS = tuple(m for m in METHODS if m != "none")
COST_COLUMNS = ("gross", "reimbursement_old", "reimbursement_new", "net_old", "net_new", "extra_cost")


@dataclass(frozen=True)
class Capacity:
    """Today's capacity: valid §110/§107 places at M, screened convertible §110 places,
    dwellings per year at the recent pace, active support courses per method."""

    places_110: float
    places_107: float
    convertible: float
    dwellings_per_year: float
    support_active: dict[str, float]

    def for_scenario(self, scenario: Scenario) -> dict[str, float]:
        moved = self.convertible if scenario.convert_places else 0.0
        return {"places_110": self.places_110 - moved, "places_107": self.places_107 + moved}


def capacity_today(shelters: pd.DataFrame, fitted: Fitted) -> Capacity:
    day = month_end(fitted.origin)
    valid = shelters[(shelters["valid_from"] <= day) & (shelters["valid_to"].isna() | (shelters["valid_to"] >= day))]
    by_para = valid.groupby(valid["paragraph"].astype(str))["places"].sum()
    s110 = valid[valid["paragraph"].astype(str) == "110"]
    convertible = float(pd.to_numeric(s110["convertible_places"], errors="coerce").fillna(0).sum())
    active = dict(zip(METHODS, fitted.state.housed.astype(float)))
    return Capacity(
        places_110=float(by_para.get("110", 0)), places_107=float(by_para.get("107", 0)), convertible=convertible,
        dwellings_per_year=float(fitted.rates.supply * 12), support_active={m: active[m] for m in SUPPORT_METHODS},
    )


def forecast_months(fitted: Fitted, params) -> pd.PeriodIndex:
    return pd.period_range(fitted.origin + 1, parse_month(str(params["forecast.horizon_end"])), freq="M")


def run_scenarios(fitted: Fitted, params, paths: int | None = None, seed: int | None = None,
                  pool: Executor | None = None) -> dict[str, Paths]:
    """All scenarios with common random numbers (same seed), so differences are the levers'.

    With a ``pool`` the scenarios are simulated as its tasks: each has its own seeded generator
    and reads the fitted rates only, so the paths are the same as run one after another.
    """
    months = forecast_months(fitted, params)
    limits = limits_by_month(months, params)
    n = int(paths or params["forecast.paths"])
    s = int(params["forecast.seed"] if seed is None else seed)
    scenarios = load_scenarios(params)

    def one(scenario: Scenario) -> Paths:
        return simulate(fitted.rates, fitted.state, months, limits, n, s, scenario.knobs)

    return dict(zip(scenarios, (pool.map if pool else map)(one, scenarios.values())))


def _quantiles(values: np.ndarray, intervals: list[float], axis: int = 0) -> dict[str, np.ndarray]:
    """Median, mean and interval bounds across paths (``axis``, 0 unless paths are the last axis).

    One sort along the paths serves every bound: the median is the mean of the middle
    one or two sorted values (what ``np.median`` takes from its partition, NaN if any
    is NaN), and ``np.quantile`` partitions sorted values cheaply. The sorted copy has the
    paths last, so the sort and the partition run along contiguous rows; the mean is taken
    on ``values`` as given, as its rounding depends on the order of the sum.
    """
    ordered = np.moveaxis(values, axis, -1).copy()
    ordered.sort(axis=-1)
    n = ordered.shape[-1]
    median = ordered[..., (n - 1) // 2: n // 2 + 1].mean(axis=-1)
    out = {"median": np.where(np.isnan(ordered[..., -1]), np.nan, median), "mean": values.mean(axis=axis)}
    probs = [q for cover in intervals for q in ((1 - cover) / 2, 1 - (1 - cover) / 2)]
    # one partition for all bounds; the sorted copy is not read again, so it may be partitioned in place
    bounds = np.quantile(ordered, probs, axis=-1, overwrite_input=True) if probs else []
    for k, cover in enumerate(intervals):
        pct = round(cover * 100)
        out[f"lo{pct}"] = bounds[2 * k]
        out[f"hi{pct}"] = bounds[2 * k + 1]
    return out


def _measures(p: Paths, occupancy: float) -> dict[tuple[str, str], tuple[np.ndarray, str]]:
    """(measure, breakdown) -> (paths x months array, how a year aggregates: mean/sum/last)."""
    days = np.array([m.days_in_month for m in p.months], dtype=float)
    s = p.series
    out = {
        ("shelter_stock", ""): (s["shelter_stock"], "last"),
        ("places_110_needed", ""): (s["nights_110"] / days / occupancy, "mean"),
        ("places_107_needed", ""): (s["s107_days"] / days / occupancy, "mean"),
        ("s107_stock", ""): (s["s107_stock"], "last"),
        ("dwellings_needed", ""): (s["housing_demand"], "sum"),
        ("housing_exits", ""): (s["exits_housing"], "sum"),
        ("arrivals_new", ""): (s["arrivals_new"], "sum"),
        ("arrivals_returning", ""): (s["arrivals_returning"], "sum"),
        ("shelter_exits", ""): (s["exits"], "sum"),
        ("nights_110", ""): (s["nights_110"], "sum"),
        ("housed", ""): (s["housed_stock"], "last"),
    }
    for i, m in enumerate(METHODS):
        if m in SUPPORT_METHODS:
            out[("support_starts", m)] = (s["support_starts"][:, :, i], "sum")
            out[("support_active", m)] = (s["housed_by_method"][:, :, i], "last")
    return out


def _yearly(values: np.ndarray, years: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    labels = np.unique(years)
    cols = []
    for y in labels:
        block = values[:, years == y]
        cols.append(block.mean(axis=1) if how == "mean" else block.sum(axis=1) if how == "sum" else block[:, -1])
    return labels, np.stack(cols, axis=1)


def summarise(results: dict[str, Paths], capacity: Capacity, params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly and yearly tables of every measure, plus gaps against today's capacity.

    A scenario's measures are stacked, so its statistics and rows are made in one go."""
    occupancy = float(params["targets.shelter_occupancy"])
    intervals = list(params["forecast.intervals"])
    scenarios = load_scenarios(params)
    monthly, yearly = [], []
    for name, p in results.items():
        cap = capacity.for_scenario(scenarios[name])
        years = np.array([m.year for m in p.months])
        labels = np.unique(years)
        measures = _measures(p, occupancy)
        measures[("places_110_gap", "")] = (measures[("places_110_needed", "")][0] - cap["places_110"], "mean")
        measures[("places_107_gap", "")] = (measures[("places_107_needed", "")][0] - cap["places_107"], "mean")
        keys = list(measures)
        values = np.stack([v for v, _ in measures.values()])  # measures x paths x months
        per_year = np.stack([_yearly(v, years, how)[1] for v, how in measures.values()])
        monthly.append(_frame(name, p.months.strftime("%Y-%m"), keys, _quantiles(values, intervals, axis=1)))
        yearly.append(_frame(name, labels.astype(str), keys, _quantiles(per_year, intervals, axis=1),
                             months=[int((years == y).sum()) for y in labels]))
    return pd.concat(monthly, ignore_index=True), pd.concat(yearly, ignore_index=True)


def _frame(scenario: str, periods, keys: list[tuple[str, str]], q: dict[str, np.ndarray], months=None) -> pd.DataFrame:
    """One scenario's rows: every (measure, breakdown) of ``keys`` by period; ``q`` is keys x periods."""
    n = len(periods)
    df = pd.DataFrame({
        "scenario": scenario, "period": list(periods) * len(keys),
        "measure": [m for m, _ in keys for _ in range(n)], "breakdown": [b for _, b in keys for _ in range(n)],
        **{k: v.ravel() for k, v in q.items()},
    })
    if months is not None:
        df["months"] = months * len(keys)
    return df


def scenario_costs(results: dict[str, Paths], params, support_reimbursable_share: float) -> pd.DataFrame:
    """Cost per scenario, year and area (median and interval bounds across paths).

    Support months of Housing First methods are the active courses at each month
    end; the share within 2 years of discharge is taken from history.
    """
    hf = [METHODS.index(m) for m in params["forecast.housing_first_methods"]]
    intervals = list(params["forecast.intervals"])
    frames = []
    for name, p in results.items():
        s = p.series
        years = np.array([m.year for m in p.months])
        support = s["housed_by_method"][:, :, hf].sum(axis=2)
        parts = {
            "nights_110": s["nights_110"], "nights_110_reimbursable": s["nights_110_reimbursable"],
            "days_107": s["s107_days"], "days_107_reimbursable": s["s107_days_reimbursable"], "support_months": support,
        }
        labels = np.unique(years)
        n_paths = support.shape[0]
        # every (year, path) at once: year-major rows, the path as cost_table's index
        vol = pd.DataFrame({k: _yearly(v, years, "sum")[1].T.ravel() for k, v in parts.items()})
        vol["nights_110_after"] = vol["nights_110"]
        vol["days_107_after"] = vol["days_107"]
        vol["support_months_after"] = vol["support_months"]
        vol["support_months_reimbursable"] = vol["support_months"] * support_reimbursable_share
        vol.index = pd.Index(np.tile(np.arange(n_paths), len(labels)), name="year")
        costs = cost_table(vol, params).rename(columns={"year": "path"})
        costs["year"] = np.tile(np.repeat(labels.astype(str), n_paths), 3)
        total = costs.groupby(["path", "year"], as_index=False)[["gross", "net_old", "net_new", "extra_cost"]].sum()
        total["area"] = "total"
        # every (year, area) block holds one row per path, in path order (a stable sort keeps it)
        costs = pd.concat([costs, total], ignore_index=True).sort_values(["year", "area"])
        blocks = costs.iloc[::n_paths]
        values = np.stack([costs[c].to_numpy(dtype=float).reshape(-1, n_paths) for c in COST_COLUMNS], axis=1)
        values = values.reshape(-1, n_paths)  # (year, area, measure) x paths
        kept = ~np.isnan(values).all(axis=1)  # the total has no reimbursement columns
        if not kept.any():
            continue
        frames.append(pd.DataFrame({
            "scenario": name, "period": np.repeat(blocks["year"].to_numpy(), len(COST_COLUMNS))[kept],
            "measure": np.tile([f"cost_{c}" for c in COST_COLUMNS], len(blocks))[kept],
            "breakdown": np.repeat(blocks["area"].to_numpy(), len(COST_COLUMNS))[kept],
            **_quantiles(values[kept], intervals, axis=1),
        }))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
