"""The forecast step of the monthly run: read the month's tables, fit, simulate,
cost, check, and write the outputs the report and the indicator table read.

Outputs in ``<build>/forecast/``: monthly.parquet, yearly.parquet, costs.parquet
(scenarios), history_costs.parquet, backtest.parquet, flows.parquet,
littles_law.parquet, rates.parquet; indicator rows in
``<build>/indicators/forecast.parquet``.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import clean
from analysis.context import indicator_file
from analysis.forecast.accuracy import accuracy_table
from analysis.forecast.backtest import local_backtest
from analysis.forecast.combined import rebase
from analysis.forecast.costs import cost_table, history_volumes
from analysis.forecast.crosschecks import littles_law_history, littles_law_scenarios
from analysis.forecast.flows import history_months, system_flows
from analysis.forecast.model import Fitted, History, fit_history
from analysis.forecast.run import Capacity, capacity_today, run_scenarios, scenario_costs, summarise
from analysis.forecast.segments import SEGMENTS
from analysis.forecast.simulate import METHODS
from analysis.indicators.build import indicator_table
from analysis.indicators.catalogue import load_catalogue

TABLES = ("episodes", "tenancies", "support", "shelters")
# The backtest and the scenarios are independent and spend most of their time in NumPy's random
# draws, which release the GIL: two threads finish the step about 40 % sooner on two cores
# (benchmarks/RESULTS.md), with the same figures, as every simulation has its own seeded generator.
THREADS = 2


@dataclass
class ForecastOutputs:
    fitted: Fitted
    capacity: Capacity
    tables: dict[str, pd.DataFrame]
    indicators: pd.DataFrame


def read_month_tables(month_dir: Path) -> dict[str, pd.DataFrame]:
    """The month's processed tables the forecast needs; a missing one is an error naming it."""
    return clean.read_month_tables(month_dir, TABLES)


def rates_table(fitted: Fitted) -> pd.DataFrame:
    """The fitted rates as a tidy table for the method appendix."""
    r = fitted.rates
    rows = [("new_arrivals_per_month", "", r.new_level), ("new_arrivals_trend_per_year", "", r.new_trend),
            ("housing_supply_per_month", "", r.supply), ("tenancy_share", "", r.tenancy_share),
            ("s107_exit_per_month", "", r.s107_exit), ("s107_return_per_month", "", r.s107_return)]
    for i, s in enumerate(SEGMENTS):
        rows += [("exit_first_month", s, r.entry_exit[i]), ("exit_hazard_month_1_3", s, r.exit_hazard[i, :3].mean()),
                 ("exit_hazard_month_12_plus", s, r.exit_hazard[i, 12:].mean()), ("to_housing_share", s, r.dest[i, 0]),
                 ("to_s107_share", s, r.dest[i, 1]), ("return_same_month", s, r.quick_return[i]), ("return_first_month", s, r.return_hazard[i, 0]), ("return_month_6_24", s, r.return_hazard[i, 6:].mean()),
                 ("new_arrival_share", s, r.new_mix[i]), ("stock_at_m", s, fitted.state.shelter[i].sum())]
    for i, m in enumerate(METHODS):
        rows += [("method_share", m, r.method_share[i]), ("support_end_per_month", m, r.support_end[i]),
                 ("housed_return_per_month", m, r.housed_return[i]), ("housed_leave_per_month", m, r.housed_leave[i])]
    return pd.DataFrame(rows, columns=["rate", "breakdown", "value"])


def indicator_rows(yearly: pd.DataFrame, costs: pd.DataFrame, history_costs: pd.DataFrame,
                   backtest: pd.DataFrame, month: pd.Period, horizon: int) -> pd.DataFrame:
    """Published figures: medians and 80 % bounds per scenario and year, costs, backtest MASE and
    mean absolute error per method with the number of origins (checked against the catalogue here,
    as every indicator step's rows are)."""
    rows = []
    wanted = {"places_110_needed": "forecast_places_110", "places_107_needed": "forecast_places_107",
              "places_110_gap": "forecast_places_110_gap", "places_107_gap": "forecast_places_107_gap",
              "dwellings_needed": "forecast_dwellings_needed", "support_starts": "forecast_support_starts"}
    for _, r in yearly[yearly["measure"].isin(list(wanted)) & (yearly["months"] == 12)].iterrows():
        base = r["scenario"] + (f"_{r['breakdown']}" if r["breakdown"] else "")
        for suffix, col in (("", "median"), ("_lo80", "lo80"), ("_hi80", "hi80")):
            rows.append((wanted[r["measure"]], r["period"], base + suffix, float(r[col])))
    total = costs[costs["breakdown"] == "total"]
    for measure, indicator in (("cost_extra_cost", "reimbursement_extra_cost"), ("cost_net_new", "cost_net_municipal")):
        for _, r in total[total["measure"] == measure].iterrows():
            rows.append((indicator, r["period"], r["scenario"], float(r["median"])))
    hist = history_costs.groupby("year")[["extra_cost", "net_new"]].sum()
    for year, r in hist.iterrows():
        rows.append(("reimbursement_extra_cost", str(year), "history", float(r["extra_cost"])))
        rows.append(("cost_net_municipal", str(year), "history", float(r["net_new"])))
    at = accuracy_table(backtest, horizons=(horizon,), mean_to=horizon)
    for _, r in at[at["horizon"] == str(horizon)].iterrows():  # what the memo's accuracy sentence reads
        for measure in ("mase", "mae", "origins"):
            rows.append((f"backtest_{measure}_12m", str(month), r["method"], float(r[measure])))
    return indicator_table([pd.DataFrame(rows, columns=["indicator", "period", "breakdown", "value"])], load_catalogue())


def run_forecast(tables: dict[str, pd.DataFrame], month: pd.Period, params, paths: int | None = None) -> ForecastOutputs:
    """Everything the forecast step computes, in memory (the notebook writes it)."""
    episodes, tenancies, support, shelters = (tables[t] for t in TABLES)
    history = History.from_tables(episodes, tenancies, support, params)  # for the fit and the backtest's origins
    fitted = fit_history(history, month, params)
    capacity = capacity_today(shelters, fitted)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        past = pool.submit(local_backtest, tables, month, params, history=history)
        simulated = run_scenarios(fitted, params, paths=paths, pool=pool)
        backtest, combined = past.result()
    results, _ = rebase(simulated, combined, int(params["forecast.seed"]))
    monthly, yearly = summarise(results, capacity, params)
    volumes = history_volumes(episodes, support, shelters, month, params)
    history_costs = cost_table(volumes, params)
    after = volumes["support_months_after"].sum()
    share = float(volumes["support_months_reimbursable"].sum() / after) if after > 0 else 1.0
    costs = scenario_costs(results, params, share)
    horizon = int(params["forecast.backtest_horizon_months"])
    flows = system_flows(episodes, tenancies, support, history_months(episodes, month, 48),
                         int(params["definitions.new_arrival_lookback_months"]))
    littles = pd.concat([
        littles_law_history(episodes, flows).assign(scenario="history"),
        littles_law_scenarios(simulated, fitted.rates).rename(columns={"simulated_stock": "stock",
                                                                     "arrivals_per_month": "inflow"}),
    ], ignore_index=True)
    out = {
        "monthly": monthly, "yearly": yearly, "costs": costs, "history_costs": history_costs,
        "history_volumes": volumes.reset_index(), "backtest": backtest, "flows": flows.reset_index(),
        "littles_law": littles, "rates": rates_table(fitted),
        "capacity": pd.DataFrame([{"places_110": capacity.places_110, "places_107": capacity.places_107,
                                   "convertible_110": capacity.convertible, "dwellings_per_year": capacity.dwellings_per_year,
                                   **{f"support_active_{m}": v for m, v in capacity.support_active.items()}}]),
    }
    indicators = indicator_rows(yearly, costs, history_costs, backtest, month, horizon)
    return ForecastOutputs(fitted, capacity, out, indicators)


def write_outputs(outputs: ForecastOutputs, build_dir: Path) -> list[Path]:
    """Write the forecast tables and the indicator rows; returns the files written."""
    folder = build_dir / "forecast"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in outputs.tables.items():
        path = folder / f"{name}.parquet"
        df.to_parquet(path, index=False)
        written.append(path)
    rows = indicator_file(build_dir, "forecast")
    outputs.indicators.to_parquet(rows, index=False)
    return written + [rows]


def read_outputs(build_dir: Path) -> dict[str, pd.DataFrame]:
    """The forecast tables written by the step (for the report)."""
    return {p.stem: pd.read_parquet(p) for p in sorted((build_dir / "forecast").glob("*.parquet"))}


