"""Row fingerprints kept between ingests, to report what a new full-history extract changed.

Extracts are full history every month, so "what is new" has to be computed:
each clean row's key is stored with a hash of its content under the extract
date, and the next ingest compares against the latest earlier extract date
(re-ingesting the same extract compares against the one before, not itself).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.ingest.schemas import TABLES


def _combined(hashes: list[np.ndarray]) -> np.ndarray:
    """Column hashes combined into row hashes as ``pd.util.hash_pandas_object`` combines a DataFrame's columns
    (CPython's tuple hash, in uint64 arithmetic that wraps around)."""
    out = np.full(len(hashes[0]), 0x345678, dtype=np.uint64)
    mult = np.uint64(1000003)
    for i, column in enumerate(hashes):
        out ^= column
        out *= mult
        mult += np.uint64(82520 + 2 * (len(hashes) - i))
    return out + np.uint64(97531)


def row_fingerprints(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Key hash → content hash per row (both uint64; vectorised, no per-row Python).

    The values of ``hash_pandas_object`` of the key columns and of the whole frame, with each column hashed once:
    the key columns are in both, and hashing text is most of the cost.
    """
    hashes = {name: pd.util.hash_pandas_object(values, index=False).to_numpy() for name, values in frame.items()}
    return pd.DataFrame({"key": _combined([hashes[k] for k in TABLES[table].key]), "hash": _combined(list(hashes.values()))})


def compare(current: pd.DataFrame, previous: pd.DataFrame) -> dict[str, int]:
    merged = current.merge(previous, on="key", how="outer", suffixes=("", "_prev"), indicator=True)
    both = merged["_merge"] == "both"
    return {
        "rows_added": int((merged["_merge"] == "left_only").sum()),
        "rows_changed": int((both & (merged["hash"] != merged["hash_prev"])).sum()),
        "rows_removed": int((merged["_merge"] == "right_only").sum()),
    }


def changes_since_previous(state_dir: Path, extract_date: pd.Timestamp, tables: dict[str, pd.DataFrame],
                           ) -> tuple[dict[str, dict[str, object]], dict[str, pd.DataFrame]]:
    """Changes per table against the latest earlier extract (if any), and this extract's fingerprints.

    Nothing is written: the plausibility gates judge the changes first (``record`` stores an accepted extract).
    """
    stamp = extract_date.strftime("%Y-%m-%d")
    earlier = sorted(p.name for p in state_dir.glob("*") if p.is_dir() and p.name < stamp) if state_dir.exists() else []
    fingerprints = {name: row_fingerprints(frame, name) for name, frame in tables.items()}
    changes: dict[str, dict[str, object]] = {}
    for name, current in fingerprints.items():
        previous_file = state_dir / earlier[-1] / f"{name}.parquet" if earlier else None
        if previous_file and previous_file.exists():
            previous = pd.read_parquet(previous_file)
            changes[name] = {**compare(current, previous), "rows_before": len(previous), "compared_with": earlier[-1]}
    return changes, fingerprints


def record(state_dir: Path, extract_date: pd.Timestamp, fingerprints: dict[str, pd.DataFrame]) -> None:
    """Store an accepted extract's fingerprints under its extract date, for the next extract's comparison."""
    folder = state_dir / extract_date.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in fingerprints.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
