"""Writing and reading processed tables: validated on write, written atomically, fingerprinted.

Validation on write (pandera, from ``schemas``) means a later step can trust
the types and domains of what it reads; the atomic rename means a crash never
leaves half a table where the previous one was.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pandera.errors

from analysis.fingerprint import file_sha256
from analysis.ingest.errors import SchemaError
from analysis.ingest.schemas import pandera_schema


def write_table(frame: pd.DataFrame, table: str, path: Path) -> dict[str, object]:
    """Validate ``frame`` against the schema of ``table``, write it, and return rows and sha256."""
    try:
        pandera_schema(table).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases[["column", "check"]].drop_duplicates().head(10).to_dict("records")
        raise SchemaError(f"processed table '{table}' fails its schema: {cases}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return {"rows": len(frame), "sha256": file_sha256(path)}


def read_table(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(folder / f"{table}.parquet")
