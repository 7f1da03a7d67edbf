"""Forecast benchmark (issues 6 and 16): the forecast step's time, and accuracy on real and synthetic data.

Usage: python benchmarks/bench_forecast.py [--month 2026-10] [--paths 1000] [--record]
       python benchmarks/bench_forecast.py --held-out [--record]
       python benchmarks/bench_forecast.py --simulation-error [--record]

Synthetic extracts (seed 2023, scale 1) are generated, ingested and cleaned once
into benchmarks/out/forecast/ (not in git). Timed: the forecast step proper (fit,
simulate every scenario, put them on the combined baseline, summarise, scenario
costs) and the whole step as the notebook runs it (plus history costs, backtest
and cross-checks); the import of the forecast package is timed in a fresh
interpreter and added, as the step pays it once (statsmodels is not among it:
the step's damped ETS is analysis.forecast.ets). Target: forecast step < 10 s on 2 cores.

Accuracy comes from analysis.forecast.accuracy (the module the docs and both
reports read): every method on rolling origins on the NYC DHS daily census
(monthly means, counts only) and Toronto's shelter-system flows (with flows, and
counts only), from their monthly copies in tests/fixtures/realdata
(accuracy.REFERENCE_SERIES), and on the synthetic default; each real series also
split into development (targets before its last 24 months) and confirmation (its
last 24 months). With --record the figures are appended to benchmarks/RESULTS.md
("Forecast (issue 6)") and replace the marked accuracy block of docs/forecast.md,
and the same evaluation is written as the table the capacity report shows
(analysis/forecast/reference_accuracy.csv; a test keeps it equal to the code's).

With --held-out it runs the same evaluation on the real series the rules were not
chosen on, read in place from ../shared/realdata (realdata.HELD_OUT_TORONTO and HELD_OUT_NYC: Toronto's population groups,
with flows and counts only, and NYC's household types) and prints, per series, the
combined forecast's MASE at 3, 6 and 12 months against the best standard method's
and its 12-month coverage, and how many series meet each of issue 16's tests.

With --simulation-error it measures what ``forecast.paths`` buys: the step's yearly
table (every scenario, measure and year: median and 80 % bounds, on the combined
baseline) is simulated with 8 seeds at 250, 500 and 1,000 paths, and the spread across
seeds of each figure is printed as a share of its 80 % interval's width, the
simulation's own error against the uncertainty the report shows.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analysis.forecast.accuracy import (REFERENCE_FILE, STANDARD, TIE_MASE, accuracy_table, confirmation_split,
                                        evaluate_series, markdown_table, reference_accuracy, reference_errors)
from analysis.forecast.backtest import local_backtest
from analysis.forecast.combined import rebase
from analysis.forecast.model import History, fit_history
from analysis.forecast.realdata import HELD_OUT_NYC, HELD_OUT_TORONTO, nyc_census, toronto_flows
from analysis.forecast.run import capacity_today, run_scenarios, scenario_costs, summarise
from analysis.forecast.series import monthly
from analysis.forecast.step import read_month_tables, run_forecast
from analysis.params import load_params
from results_file import record

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "forecast"
HEADING = "## Forecast (issue 6)"
DOCS = HERE.parent / "docs" / "forecast.md"
FIXTURES = HERE.parent / "tests" / "fixtures" / "realdata"  # the same public series, monthly (see its README)
BEGIN, END = "<!-- accuracy table: benchmarks/bench_forecast.py --record -->", "<!-- end of accuracy table -->"


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


def cpu_timed(fn):
    """Wall and CPU seconds: on the shared machine the wall time also holds other jobs' load."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - start, time.process_time() - cpu


def import_seconds() -> float:
    """The forecast step's import in a fresh interpreter (the step pays it once per run); it must
    not pull in statsmodels."""
    code = ("import sys, time; t = time.perf_counter(); import analysis.forecast.step; "
            "print(time.perf_counter() - t); assert 'statsmodels' not in sys.modules")
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


# the accuracy table's names of accuracy.REFERENCE_SERIES
REAL_NAMES = {"nyc_counts": "NYC DHS census 2013–2025, counts only", "toronto_flows": "Toronto 2018–2024, with flows",
              "toronto_counts": "Toronto 2018–2024, counts only"}


def held_out(stay: float) -> pd.DataFrame:
    """Per held-out series: the model's MASE at 3, 6, 12 months, the best standard method's, damped ETS's at
    12, the 12-month coverage, and whether it passes each of issue 16's tests (ties within 0.05)."""
    series = {}
    for group in HELD_OUT_TORONTO:
        t = toronto_flows(group)
        series[f"Toronto {group}, with flows"] = (t["stock"], {"inflow": t["inflow"], "outflow": t["outflow"]})
        series[f"Toronto {group}, counts only"] = (t["stock"], {})
    for column in HELD_OUT_NYC:
        series[f"NYC {column}, counts only"] = (monthly(nyc_census(column)), {})
    rows = []
    for name, (y, flows) in series.items():
        t = accuracy_table(evaluate_series(y, stay, **flows))
        model = t[t["method"] == "model"].set_index("horizon")
        best = t[t["method"].isin(STANDARD)].groupby("horizon")["mase"].min()
        ets = t[t["method"] == "damped_ets"].set_index("horizon")["mase"]
        rows.append({"series": name, "origins": int(model.loc["12", "origins"]),
                     **{f"model {h}": model.loc[h, "mase"] for h in ("3", "6", "12")},
                     **{f"best {h}": best[h] for h in ("3", "6", "12")}, "damped_ets 12": ets["12"],
                     "cover 80": model.loc["12", "coverage80"], "cover 95": model.loc["12", "coverage95"],
                     "no worse than the best": all(model.loc[h, "mase"] <= best[h] + TIE_MASE for h in ("3", "6", "12")),
                     "better than damped ETS": model.loc["12", "mase"] < ets["12"],
                     "80 % band 70-90 %": 0.7 <= model.loc["12", "coverage80"] <= 0.9,
                     "95 % band 88-99 %": 0.88 <= model.loc["12", "coverage95"] <= 0.99})
    return pd.DataFrame(rows)


def held_out_text(table: pd.DataFrame) -> str:
    tests = ["no worse than the best", "better than damped ETS", "80 % band 70-90 %", "95 % band 88-99 %"]
    shown = table.drop(columns=tests).assign(**{c: table[c].map(lambda v: f"{100 * v:.0f} %") for c in ("cover 80", "cover 95")})
    header = "| " + " | ".join(shown.columns) + " |\n|" + "---|" * len(shown.columns)
    body = "\n".join("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row) + " |"
                     for row in shown.itertuples(index=False))
    passed = "; ".join(f"{test}: {int(table[test].sum())} of {len(table)}" for test in tests)
    return "\n".join([
        "Command: `python benchmarks/bench_forecast.py --held-out`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. Held-out series (the rules were not chosen on them; "
        "they are parts of the same two cities' systems, so not independent of NYC's and Toronto's totals). "
        "MASE of the combined forecast (`model`) and of the best of naive, seasonal naive, drift and damped ETS; "
        "coverage of its 80 % / 95 % bands at 12 months.", "", header, body, "",
        f"Issue 16's tests passed (ties within {TIE_MASE}): {passed}.", ""])


def replace_docs_block(text: str) -> None:
    doc = DOCS.read_text(encoding="utf-8")
    begin, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    DOCS.write_text(doc[:begin] + "\n\n" + text.strip("\n") + "\n\n" + doc[end:], encoding="utf-8")


SIMULATION_PATHS, SIMULATION_SEEDS = (250, 500, 1000), 8


def simulation_error(tables: dict[str, pd.DataFrame], month: pd.Period, params) -> str:
    """Seed-to-seed spread of the yearly figures per path count, as a share of the 80 % interval's width."""
    history = History.from_tables(tables["episodes"], tables["tenancies"], tables["support"], params)
    _, combined = local_backtest(tables, month, params, history=history)
    fitted = fit_history(history, month, params)
    capacity = capacity_today(tables["shelters"], fitted)
    key = ["scenario", "period", "measure", "breakdown"]
    rows, headline = [], []
    for paths in SIMULATION_PATHS:
        runs = []
        for seed in range(SIMULATION_SEEDS):
            results, _ = rebase(run_scenarios(fitted, params, paths=paths, seed=seed), combined, seed)
            runs.append(summarise(results, capacity, params)[1])
        yearly = pd.concat(runs)
        yearly = yearly[yearly["months"] == 12]  # whole years, as published
        width = yearly.groupby(key)["hi80"].mean() - yearly.groupby(key)["lo80"].mean()
        for stat in ("median", "lo80", "hi80"):
            share = (yearly.groupby(key)[stat].std() / width)[width > 0]
            rows.append(f"| {paths:,} | {stat} | {share.median():.1%} | {share.quantile(0.9):.1%} | {share.max():.1%} |")
        stock = yearly[(yearly["scenario"] == "baseline") & (yearly["measure"] == "places_110_needed")
                       & (yearly["period"] == yearly["period"].max())]
        headline.append(f"{paths:,} paths: median {stock['median'].mean():.0f} ± {stock['median'].std():.1f}, "
                        f"80 % interval {stock['lo80'].mean():.0f} ± {stock['lo80'].std():.1f} – "
                        f"{stock['hi80'].mean():.0f} ± {stock['hi80'].std():.1f}")
    return "\n".join([
        f"Command: `python benchmarks/bench_forecast.py --simulation-error --month {month}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; synthetic default (seed 2023, scale 1), "
        f"{SIMULATION_SEEDS} seeds per path count, every scenario, measure and whole year to 2030.", "",
        "Simulation error: the standard deviation across seeds of each yearly figure, as a share of the width of "
        "its 80 % interval (median over the figures, 90th percentile, largest):", "",
        "| paths | figure | median | 90th percentile | largest |", "|---:|---|---:|---:|---:|", *rows, "",
        f"§ 110 places needed in the baseline, {yearly['period'].max()} (mean ± standard deviation across seeds): "
        + "; ".join(headline) + ".",
    ])


def emit(text: str, record_it: bool) -> None:
    """Print one of the benchmark's results; with --record, also append it to RESULTS.md."""
    print(text)
    if record_it:
        record(HEADING, text)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--paths", type=int, default=1000)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--held-out", action="store_true", help="evaluate on the held-out real series only")
    ap.add_argument("--simulation-error", action="store_true", help="seed-to-seed spread per number of paths")
    args = ap.parse_args()
    month = pd.Period(args.month, freq="M")
    params = load_params()
    if args.held_out:
        return emit(held_out_text(held_out(float(params["forecast.series_mean_stay_months"]))), args.record)
    tables = read_month_tables(synthetic_month(month))
    if args.simulation_error:
        return emit(simulation_error(tables, month, params), args.record)
    history = History.from_tables(tables["episodes"], tables["tenancies"], tables["support"], params)
    (_, combined), t_backtest = timed(lambda: local_backtest(tables, month, params, history=history))

    def step():
        fitted = fit_history(history, month, params)
        results, _ = rebase(run_scenarios(fitted, params, paths=args.paths), combined, int(params["forecast.seed"]))
        summarise(results, capacity_today(tables["shelters"], fitted), params)
        scenario_costs(results, params, 1.0)
        return results

    results, t_step, cpu_step = cpu_timed(step)
    t_import = import_seconds()
    full, t_full = timed(lambda: run_forecast(tables, month, params, paths=args.paths))
    months = len(next(iter(results.values())).months)
    stay = float(params["forecast.series_mean_stay_months"])
    real = reference_errors(FIXTURES, stay)  # one evaluation for this table, the docs and the report's CSV
    overall = {"Synthetic default (M = %s)" % month: accuracy_table(full.tables["backtest"]),
               **{REAL_NAMES[sid]: accuracy_table(errors) for sid, (errors, _, _) in real.items()}}
    split = {f"{REAL_NAMES[sid]}, {part}": accuracy_table(errors)
             for sid, (all_errors, _, last) in real.items()
             for part, errors in confirmation_split(all_errors, last).items() if len(errors)}
    accuracy = "\n".join([
        "MASE at 3, 6 and 12 months ahead and the 1–12 mean (scaled by the in-sample seasonal-naive error up to",
        "and including the origin), bias (forecast − actual, persons) and the share of actuals inside the 80 % /",
        "95 % bands at 12 months; `model` is the combined forecast. Rolling origins: the last up to 60 with 36",
        f"months of history (synthetic: the step's {params['forecast.backtest_origins']}). Counts-only series use a "
        f"mean stay of {stay:g} months (`forecast.series_mean_stay_months`).", "",
        markdown_table(overall), "",
        "The same errors split by target month: development (before the series' last 24 months) and",
        "confirmation (its last 24 months).", "",
        markdown_table(split),
    ])
    lines = [
        f"Command: `python benchmarks/bench_forecast.py --month {args.month} --paths {args.paths}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores (shared with other jobs), Python {platform.python_version()}.", "",
        f"- Forecast step, {len(results)} scenarios × {args.paths:,} paths × {months} months (to 2030-12), synthetic "
        f"default (seed 2023, scale 1), combined baseline included: **{t_step + t_import:.1f} s** "
        f"({t_step:.1f} s + {t_import:.1f} s import of the forecast package, without statsmodels; target < 10 s); "
        f"CPU time of the step "
        f"{cpu_step:.1f} s (load average {os.getloadavg()[0]:.1f} on the shared machine when it ran).",
        f"- Backtest of the combined forecast and the standard methods ({params['forecast.backtest_origins']} origins): "
        f"{t_backtest:.1f} s; whole notebook step incl. history costs, backtest and cross-checks: {t_full:.1f} s.", "",
        accuracy, "",
    ]
    emit("\n".join(lines), args.record)
    if args.record:
        replace_docs_block(accuracy)
        reference_accuracy(real).round(6).to_csv(REFERENCE_FILE, index=False)  # the capacity report's table


if __name__ == "__main__":
    main()
