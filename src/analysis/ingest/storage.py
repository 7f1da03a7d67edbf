"""Writing and reading processed tables: validated on write, written atomically, fingerprinted.

Validation on write (pandera, from ``schemas``) means a later step can trust
the types and domains of what it reads; the atomic rename means a crash never
leaves half a table where the previous one was.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.fingerprint import file_sha256
from analysis.ingest.errors import SchemaError
from analysis.ingest.schemas import DTYPE, PATTERNS, TABLES, pandera_schema

_EXACT_DTYPES = {"datetime64[ns]": np.dtype("datetime64[ns]"), "float64": np.dtype("float64"),
                 "Int64": pd.Int64Dtype(), "int64": np.dtype("int64"), "bool": np.dtype("bool")}


def conforms(frame: pd.DataFrame, table: str) -> bool:
    """Vectorised check that ``frame`` passes the pandera schema of ``table`` (same columns, dtypes, nulls,
    domains, patterns and key), at least as strictly: True means pandera would pass it, False means "ask pandera".

    pandera checks a ``str`` column value by value in Python and imports in ~0.7 s; this runs in C/Arrow.
    """
    spec = TABLES[table]
    columns = spec.processed_columns
    if list(frame.columns) != [c.name for c in columns]:
        return False
    for col in columns:
        values = frame[col.name]
        dtype = DTYPE[col.kind]
        if dtype == "str":
            if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
                return False
        elif values.dtype != _EXACT_DTYPES[dtype]:
            return False
        present = values.dropna()
        if col.required and len(present) != len(values):
            return False
        if col.values and not present.isin(list(col.values)).all():
            return False
        if col.minimum is not None and not bool((present >= col.minimum).all()):
            return False
        if col.kind in PATTERNS and len(present):
            # RE2 (Arrow) is stricter than Python's re here: `$` never matches before a trailing newline, `\d` is ASCII.
            cells = pa.array(present.to_numpy(dtype=object), type=pa.string())
            if not pc.all(pc.match_substring_regex(cells, PATTERNS[col.kind])).as_py():
                return False
    return not (spec.key and frame.duplicated(subset=list(spec.key)).any())


def validate(frame: pd.DataFrame, table: str) -> None:
    """Raise ``SchemaError`` unless ``frame`` passes the schema of ``table``; pandera only when the fast check
    cannot vouch for the frame, so a failure is reported exactly as pandera finds it."""
    if conforms(frame, table):
        return
    import pandera.errors

    try:
        pandera_schema(table).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases[["column", "check"]].drop_duplicates().head(10).to_dict("records")
        raise SchemaError(f"processed table '{table}' fails its schema: {cases}") from None


def write_table(frame: pd.DataFrame, table: str, path: Path) -> dict[str, object]:
    """Validate ``frame`` against the schema of ``table``, write it, and return rows and sha256."""
    validate(frame, table)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return {"rows": len(frame), "sha256": file_sha256(path)}


def read_table(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(folder / f"{table}.parquet")
