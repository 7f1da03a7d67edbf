"""Cleaning benchmark (issue 3): ingest + build_month time and peak memory at two scales, episodes vs DuckDB.

Usage: python benchmarks/bench_cleaning.py [--scales 1 10] [--month 2026-09] [--no-record]

Synthetic extracts are generated once per scale into benchmarks/out/ (not in
git). Every measurement runs in a fresh Python subprocess so that its peak
resident memory (``ru_maxrss``) is its own. The episode comparison runs the
package's vectorised ``build_episodes`` and the same definition written as a
DuckDB gaps-and-islands query (running max of discharges) on the same stays,
checks that both give the same episodes, and reports the best of three runs.
Targets (issue 3): scale-10 cleaning < 60 s and < 3 GB, scale-10 time ≤ 12×
scale-1, episodes ≤ 2× DuckDB. Figures are appended to benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from results_file import record

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SEED = 2023

EPISODES_SQL = """
WITH s AS (
    SELECT person_id, shelter_id, acting_municipality, discharge_category,
           CAST(admitted AS DATE) AS admitted, CAST(discharged AS DATE) AS discharged,
           COALESCE(CAST(discharged AS DATE), $censor::DATE) AS dis
    FROM stays
), s2 AS (
    SELECT *, GREATEST(dis, admitted + 1) AS covered_to FROM s
), chained AS (
    SELECT *, MAX(dis) OVER (PARTITION BY person_id ORDER BY admitted, dis
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS chain_end
    FROM s2
), numbered AS (
    SELECT *, SUM(CASE WHEN chain_end IS NULL OR datediff('day', chain_end, admitted) > $gap THEN 1 ELSE 0 END)
                  OVER (PARTITION BY person_id ORDER BY admitted, dis ROWS UNBOUNDED PRECEDING) AS ep
    FROM chained
), covered AS (
    SELECT *, MAX(covered_to) OVER (PARTITION BY person_id, ep ORDER BY admitted, dis
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_before
    FROM numbered
)
SELECT person_id || '-' || strftime(MIN(admitted), '%Y%m%d') AS episode_id,
       person_id,
       MIN(admitted) AS start,
       CASE WHEN COUNT(*) = COUNT(discharged) THEN MAX(discharged) END AS "end",
       SUM(GREATEST(datediff('day', GREATEST(admitted, COALESCE(covered_before, admitted)), covered_to), 0)) AS nights,
       COUNT(*) AS n_stays,
       CASE WHEN COUNT(*) = COUNT(discharged) THEN arg_max(discharge_category, (dis, admitted)) END AS discharge_category,
       arg_min(shelter_id, admitted) AS first_shelter_id,
       arg_max(shelter_id, (dis, admitted)) AS last_shelter_id,
       arg_max(acting_municipality, (dis, admitted)) AS acting_municipality,
       COUNT(*) > COUNT(discharged) AS open
FROM covered
GROUP BY person_id, ep
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def measure_cleaning(raw: Path, processed: Path, month: str) -> dict:
    import pandas as pd

    from analysis.clean import build_month
    from analysis.ingest import run_ingest
    from analysis.params import load_params

    t0 = time.perf_counter()
    quality = run_ingest(raw, processed)
    t1 = time.perf_counter()
    build_month(processed, pd.Period(month, "M"), load_params())
    t2 = time.perf_counter()
    rows = {name: q.rows_read for name, q in quality.extracts.items()}
    return {"ingest_s": t1 - t0, "month_s": t2 - t1, "total_s": t2 - t0, "peak_mb": peak_mb(), "rows_read": rows}


def measure_episodes(processed: Path, month: str) -> dict:
    import duckdb
    import pandas as pd

    from analysis.clean.episodes import build_episodes
    from analysis.months import day_after
    from analysis.params import load_params

    period = pd.Period(month, "M")
    gap = int(load_params()["definitions.episode_gap_days"])
    stays = pd.read_parquet(processed / month / "stays.parquet")
    con = duckdb.connect()
    con.register("stays", stays)
    params = {"censor": str(day_after(period).date()), "gap": gap}

    def best(fn):
        times = []
        for _ in range(3):
            t = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t)
        return min(times), result

    pandas_s, ours = best(lambda: build_episodes(stays, period, gap))
    duck_s, theirs = best(lambda: con.execute(EPISODES_SQL, params).df())
    a = ours.set_index("episode_id").sort_index()
    b = theirs.set_index("episode_id").sort_index()
    same = (a.index.equals(b.index) and (a["nights"].to_numpy() == b["nights"].to_numpy()).all()
            and (a["n_stays"].to_numpy() == b["n_stays"].to_numpy()).all()
            and a["discharge_category"].fillna("").equals(b["discharge_category"].fillna("")))
    return {"stays": len(stays), "episodes": len(ours), "pandas_s": pandas_s, "duckdb_s": duck_s,
            "duckdb_threads": int(con.execute("SELECT current_setting('threads')").fetchone()[0]), "same_result": bool(same)}


def _in_subprocess(*args: str) -> dict:
    """Run this file in a fresh interpreter (own peak memory) and return its JSON."""
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _generate(scale: float) -> Path:
    raw = OUT / f"raw-scale{scale:g}"
    if not (raw / "udtraek.yml").exists():
        from analysis.synthetic import generate

        t = time.perf_counter()
        generate(raw, seed=SEED, scale=scale)
        print(f"generated scale {scale:g} in {time.perf_counter() - t:.1f} s", flush=True)
    return raw


def _record(lines: list[str], command: str) -> None:
    """Append a dated block to this benchmark's section of RESULTS.md."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = "\n".join([f"### {stamp}", "", f"Command: `{command}`  ",
                       f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}",
                       "", *lines])
    record("## Cleaning (issue 3)", block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--month", default="2026-10", help="reference month for build_month")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--measure", choices=["cleaning", "episodes"], help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--processed", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure == "cleaning":
        print(json.dumps(measure_cleaning(args.raw, args.processed, args.month)))
        return
    if args.measure == "episodes":
        print(json.dumps(measure_episodes(args.processed, args.month)))
        return

    results = {}
    for scale in args.scales:
        raw = _generate(scale)
        processed = OUT / f"processed-scale{scale:g}"
        clean = _in_subprocess("--measure", "cleaning", "--raw", str(raw), "--processed", str(processed), "--month", args.month)
        episodes = _in_subprocess("--measure", "episodes", "--processed", str(processed), "--month", args.month)
        results[scale] = (clean, episodes)
        print(f"scale {scale:g}: rows read {sum(clean['rows_read'].values()):,} "
              f"(stays {clean['rows_read']['ophold']:,}); ingest {clean['ingest_s']:.1f} s + build_month "
              f"{clean['month_s']:.1f} s = {clean['total_s']:.1f} s; peak {clean['peak_mb']:.0f} MB", flush=True)
        print(f"  episodes: {episodes['episodes']:,} from {episodes['stays']:,} stays; pandas "
              f"{episodes['pandas_s'] * 1000:.0f} ms, DuckDB {episodes['duckdb_s'] * 1000:.0f} ms "
              f"({episodes['duckdb_threads']} threads), ratio {episodes['pandas_s'] / episodes['duckdb_s']:.2f}, "
              f"same result: {episodes['same_result']}", flush=True)

    lines = ["| scale | rows read | stays | ingest s | build_month s | total s | peak MB | episodes | pandas ms | DuckDB ms | ratio | same |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for scale, (c, e) in results.items():
        lines.append(f"| {scale:g} | {sum(c['rows_read'].values()):,} | {e['stays']:,} | {c['ingest_s']:.1f} | {c['month_s']:.1f} "
                     f"| {c['total_s']:.1f} | {c['peak_mb']:.0f} | {e['episodes']:,} | {e['pandas_s'] * 1000:.0f} "
                     f"| {e['duckdb_s'] * 1000:.0f} | {e['pandas_s'] / e['duckdb_s']:.2f} | {e['same_result']} |")
    if len(results) >= 2:
        lo, hi = min(results), max(results)
        ratio = results[hi][0]["total_s"] / results[lo][0]["total_s"]
        lines.append("")
        lines.append(f"Time ratio scale {hi:g} / scale {lo:g}: {ratio:.1f}× (target ≤ {hi / lo * 1.2:g}×); "
                     f"scale {hi:g}: {results[hi][0]['total_s']:.1f} s (target < 60 s), "
                     f"peak {results[hi][0]['peak_mb']:.0f} MB (target < 3 GB).")
        print(lines[-1])
    if not args.no_record:
        _record(lines, "python benchmarks/bench_cleaning.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
