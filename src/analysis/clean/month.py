"""``build_month``: the processed tables as known at the end of a reference month, plus episodes and tenancies."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.clean.cut import cut_to_month
from analysis.clean.episodes import build_episodes
from analysis.clean.tenancies import build_tenancies
from analysis.ingest.schemas import INGEST_TABLES, processed_names
from analysis.ingest.storage import copy_table, read_table_and_arrow, write_table
from analysis.months import period_label
from analysis.base import fmt


def month_tables(processed_dir: Path, month: pd.Period, params: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """All month tables in memory (what ``build_month`` writes)."""
    return _month_tables(processed_dir, month, params)[0]


def _month_tables(
    processed_dir: Path, month: pd.Period, params: Mapping[str, Any],
) -> tuple[dict[str, pd.DataFrame], dict[str, pa.Table]]:
    """The month tables, and the ingest tables the cut left as they are (``cut_to_month`` returned the frame it
    was given) as Arrow tables read from their files."""
    tables: dict[str, pd.DataFrame] = {}
    uncut: dict[str, pa.Table] = {}
    for name in INGEST_TABLES:
        full, arrow = read_table_and_arrow(processed_dir, name)
        tables[name] = cut_to_month(full, name, month)
        if tables[name] is full and list(full.columns) == processed_names(name):
            uncut[name] = arrow
    tables["episodes"] = build_episodes(tables["stays"], month, int(params["definitions.episode_gap_days"]))
    tables["tenancies"] = build_tenancies(
        tables["allocations"], tables["dwellings"], tables["stays"], tables["referrals"], tables["support"],
        int(params["definitions.housed_from_homelessness_days"]), int(params["definitions.support_window_days"]),
    )
    return tables, uncut


def build_month(processed_dir: Path, month: pd.Period, params: Mapping[str, Any]) -> dict[str, Path]:
    """Write ``<processed_dir>/<YYYY-MM>/<table>.parquet`` (validated); returns table → path.

    An ingest table the cut leaves as it is (most: the extract is only days past M) is validated and copied.
    """
    folder = processed_dir / period_label(month)
    written: dict[str, Path] = {}
    tables, uncut = _month_tables(processed_dir, month, params)
    for name, frame in tables.items():
        path = folder / f"{name}.parquet"
        names = processed_names(name)
        if name in uncut:
            copy_table(frame, name, uncut[name], processed_dir / f"{name}.parquet", path)
        else:
            write_table(frame if list(frame.columns) == names else frame[names], name, path)  # selecting copies
        written[name] = path
    return written


def month_summary(month_dir: Path) -> pd.DataFrame:
    """Rows per month table (Danish headings, formatted counts), from the Parquet footers without loading data."""
    files = sorted(month_dir.glob("*.parquet"))
    return pd.DataFrame({"Tabel": [f.stem for f in files],
                         "Rækker": [fmt.number(pq.read_metadata(f).num_rows) for f in files]})


def month_table_paths(month_dir: Path, names: Sequence[str] | None = None) -> dict[str, Path]:
    """The files ``build_month`` wrote for a month (all, or ``names``); a missing one is an error naming it.

    Every analysis step finds its inputs through here, so a step run before the
    clean step fails with the same clear message.
    """
    month_dir = Path(month_dir)
    wanted = list(names) if names is not None else sorted(p.stem for p in month_dir.glob("*.parquet"))
    missing = [n for n in wanted if not (month_dir / f"{n}.parquet").exists()]
    if missing or not wanted:
        what = ", ".join(f"{m}.parquet" for m in missing) or "all month tables"
        raise FileNotFoundError(f"{month_dir}: missing {what}; run the clean step (analysis.clean.build_month) first")
    return {n: month_dir / f"{n}.parquet" for n in wanted}


def read_month_tables(month_dir: Path, names: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """The tables ``build_month`` wrote for a month (all, or ``names``), read now."""
    return {n: pd.read_parquet(path) for n, path in month_table_paths(month_dir, names).items()}


class MonthTables(Mapping[str, pd.DataFrame]):
    """The tables ``build_month`` wrote for a month, each read when first used (then kept).

    For a step that is handed every table but uses only some: income, the largest by far, is read only where
    it is needed.
    """

    def __init__(self, month_dir: Path, names: Sequence[str] | None = None) -> None:
        self._paths = month_table_paths(month_dir, names)
        self._read: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._read:
            self._read[name] = pd.read_parquet(self._paths[name])
        return self._read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)
