"""``build_month``: the processed tables as known at the end of a reference month, plus episodes and tenancies."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd
import pyarrow.parquet as pq

from analysis.clean.cut import cut_to_month
from analysis.clean.episodes import build_episodes
from analysis.clean.tenancies import build_tenancies
from analysis.ingest.schemas import INGEST_TABLES, processed_names
from analysis.ingest.storage import read_table, write_table
from analysis.months import period_label
from analysis.report import fmt


def month_tables(processed_dir: Path, month: pd.Period, params: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """All month tables in memory (what ``build_month`` writes)."""
    tables = {name: cut_to_month(read_table(processed_dir, name), name, month) for name in INGEST_TABLES}
    tables["episodes"] = build_episodes(tables["stays"], month, int(params["definitions.episode_gap_days"]))
    tables["tenancies"] = build_tenancies(
        tables["allocations"], tables["dwellings"], tables["stays"], tables["referrals"], tables["support"],
        int(params["definitions.housed_from_homelessness_days"]), int(params["definitions.support_window_days"]),
    )
    return tables


def build_month(processed_dir: Path, month: pd.Period, params: Mapping[str, Any]) -> dict[str, Path]:
    """Write ``<processed_dir>/<YYYY-MM>/<table>.parquet`` (validated); returns table → path."""
    folder = processed_dir / period_label(month)
    written: dict[str, Path] = {}
    for name, frame in month_tables(processed_dir, month, params).items():
        path = folder / f"{name}.parquet"
        names = processed_names(name)
        write_table(frame if list(frame.columns) == names else frame[names], name, path)  # selecting copies
        written[name] = path
    return written


def month_summary(month_dir: Path) -> pd.DataFrame:
    """Rows per month table (Danish headings, formatted counts), from the Parquet footers without loading data."""
    files = sorted(month_dir.glob("*.parquet"))
    return pd.DataFrame({"Tabel": [f.stem for f in files],
                         "Rækker": [fmt.number(pq.read_metadata(f).num_rows) for f in files]})


def read_month_tables(month_dir: Path, names: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """The tables ``build_month`` wrote for a month (all, or ``names``); a missing one is an error naming it.

    Every analysis step reads its inputs through here, so a step run before the
    clean step fails with the same clear message.
    """
    month_dir = Path(month_dir)
    wanted = list(names) if names is not None else sorted(p.stem for p in month_dir.glob("*.parquet"))
    missing = [n for n in wanted if not (month_dir / f"{n}.parquet").exists()]
    if missing or not wanted:
        what = ", ".join(f"{m}.parquet" for m in missing) or "all month tables"
        raise FileNotFoundError(f"{month_dir}: missing {what}; run the clean step (analysis.clean.build_month) first")
    return {n: pd.read_parquet(month_dir / f"{n}.parquet") for n in wanted}
