"""Forecast benchmark (issue 6): all scenarios × 1,000 paths to 2030, and backtest accuracy.

Usage: python benchmarks/bench_forecast.py [--month 2026-10] [--paths 1000] [--record]

Synthetic extracts (seed 2023, scale 1) are generated, ingested and cleaned once
into benchmarks/out/forecast/ (not in git). Timed: the forecast step proper
(fit, simulate every scenario, summarise, scenario costs) and the whole step
as the notebook runs it (plus history costs, backtest and cross-checks).
Accuracy: MASE at 12 months on the synthetic history (rolling origins), the
NYC DHS daily census (monthly means) and Toronto's shelter-system flows, read
in place from ../shared/realdata. Target: forecast step < 60 s on 2 cores.
With --record the "Forecast (issue 6)" section of benchmarks/RESULTS.md is
replaced by these figures.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analysis.forecast.backtest import mase_summary
from analysis.forecast.model import fit
from analysis.forecast.realdata import nyc_census, toronto_flows
from analysis.forecast.run import capacity_today, run_scenarios, scenario_costs, summarise
from analysis.forecast.series import monthly, series_backtest
from analysis.forecast.step import read_month_tables, run_forecast
from analysis.params import load_params
from results_file import record

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "forecast"
HEADING = "## Forecast (issue 6)"


def synthetic_month(month: pd.Period) -> Path:
    """Month tables of the synthetic default, built once."""
    from analysis.clean.month import build_month
    from analysis.ingest.run import run_ingest
    from analysis.synthetic import generate

    month_dir = OUT / "processed" / str(month)
    if not (month_dir / "episodes.parquet").exists():
        generate(OUT / "raw", seed=2023, scale=1.0)
        run_ingest(OUT / "raw", OUT / "processed")
        build_month(OUT / "processed", month, load_params())
    return month_dir


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--paths", type=int, default=1000)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    month = pd.Period(args.month, freq="M")
    params = load_params()
    tables = read_month_tables(synthetic_month(month))

    def step():
        fitted = fit(tables["episodes"], tables["tenancies"], tables["support"], month, params)
        results = run_scenarios(fitted, params, paths=args.paths)
        summarise(results, capacity_today(tables["shelters"], fitted), params)
        scenario_costs(results, params, 1.0)
        return results

    results, t_step = timed(step)
    full, t_full = timed(lambda: run_forecast(tables, month, params, paths=args.paths))
    months = len(next(iter(results.values())).months)
    synthetic = mase_summary(full.tables["backtest"], 12)
    cap = float(params["forecast.trend_cap"])
    damping = float(params["forecast.trend_damping"])
    nyc_y, tor = monthly(nyc_census()), toronto_flows()
    real = {
        "NYC DHS census, total individuals, monthly mean 2013–2025 (counts only)":
            lambda c: series_backtest(nyc_y, 12, origins=60, trend_cap=c, trend_damping=damping),
        "Toronto shelter-system flow, actively homeless 2018–2024 (with flows)":
            lambda c: series_backtest(tor["stock"], 12, tor["inflow"], tor["outflow"], origins=36, trend_cap=c,
                                     trend_damping=damping),
        "Toronto, counts only":
            lambda c: series_backtest(tor["stock"], 12, origins=36, trend_cap=c, trend_damping=damping),
    }
    accuracy = {name: mase_summary(run(cap), 12) for name, run in real.items()}
    no_trend = {name: mase_summary(run(0.0), 12) for name, run in real.items()}

    def row(name, s):
        get = lambda m: f"{s.loc[m, 'mase_h12']:.2f}" if m in s.index else "–"
        return f"| {name} | {int(s['origins'].max())} | {get('model')} | {get('seasonal_naive')} | {get('littles_law')} |"

    lines = [
        f"Command: `python benchmarks/bench_forecast.py --month {args.month} --paths {args.paths}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores (shared with other jobs), Python {platform.python_version()}.", "",
        f"- Forecast step, {len(results)} scenarios × {args.paths:,} paths × {months} months (to 2030-12), "
        f"synthetic default (seed 2023, scale 1): **{t_step:.1f} s** (target < 60 s).",
        f"- Whole notebook step incl. history costs, 12-origin backtest and cross-checks: {t_full:.1f} s.", "",
        f"Arrival trend capped at ±{cap:.0%} a year (`forecast.trend_cap`) and damped by {damping:g} a year "
        "(`forecast.trend_damping`); real series use the one-compartment",
        "form of the same simulation (`analysis.forecast.series`).", "",
        "MASE at 12 months (rolling origins; < 1 = better than the in-sample seasonal-naive error):", "",
        "| series | origins | model | seasonal naive | Little's law |", "|---|---:|---:|---:|---:|",
        row("Synthetic default, persons in shelter (stock-and-flow model)", synthetic),
        *(row(name, s) for name, s in accuracy.items()),
        *(row(f"{name}, no trend in arrivals (sensitivity)", s) for name, s in no_trend.items()), "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        record(HEADING, text, replace=True)


if __name__ == "__main__":
    main()
