"""Row fingerprints kept between ingests, to report what a new full-history extract changed.

Extracts are full history every month, so "what is new" has to be computed:
each clean row's key is stored with a hash of its content under the extract
date, and the next ingest compares against the latest earlier extract date
(re-ingesting the same extract compares against the one before, not itself).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.ingest.schemas import TABLES


def row_fingerprints(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Key hash → content hash per row (both uint64; vectorised, no per-row Python)."""
    key = pd.util.hash_pandas_object(frame[list(TABLES[table].key)], index=False)
    return pd.DataFrame({"key": key.to_numpy(), "hash": pd.util.hash_pandas_object(frame, index=False).to_numpy()})


def compare(current: pd.DataFrame, previous: pd.DataFrame) -> dict[str, int]:
    merged = current.merge(previous, on="key", how="outer", suffixes=("", "_prev"), indicator=True)
    both = merged["_merge"] == "both"
    return {
        "rows_added": int((merged["_merge"] == "left_only").sum()),
        "rows_changed": int((both & (merged["hash"] != merged["hash_prev"])).sum()),
        "rows_removed": int((merged["_merge"] == "right_only").sum()),
    }


def record_and_compare(state_dir: Path, extract_date: pd.Timestamp, tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, object]]:
    """Store this extract's fingerprints; changes per table against the latest earlier extract (if any)."""
    stamp = extract_date.strftime("%Y-%m-%d")
    earlier = sorted(p.name for p in state_dir.glob("*") if p.is_dir() and p.name < stamp) if state_dir.exists() else []
    folder = state_dir / stamp
    folder.mkdir(parents=True, exist_ok=True)
    changes: dict[str, dict[str, object]] = {}
    for name, frame in tables.items():
        current = row_fingerprints(frame, name)
        current.to_parquet(folder / f"{name}.parquet", index=False)
        previous_file = state_dir / earlier[-1] / f"{name}.parquet" if earlier else None
        if previous_file and previous_file.exists():
            changes[name] = {**compare(current, pd.read_parquet(previous_file)), "compared_with": earlier[-1]}
    return changes
