"""Writing and reading processed tables: validated on write, written atomically, fingerprinted.

Validation on write (pandera, from ``schemas``) means a later step can trust
the types and domains of what it reads; the atomic rename means a crash never
leaves half a table where the previous one was.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.fingerprint import file_sha256
from analysis.ingest.errors import SchemaError
from analysis.ingest.schemas import DTYPE, PATTERNS, TABLES, Column, pandera_schema

_EXACT_DTYPES = {"datetime64[ns]": np.dtype("datetime64[ns]"), "float64": np.dtype("float64"),
                 "Int64": pd.Int64Dtype(), "int64": np.dtype("int64"), "bool": np.dtype("bool")}


def _text_conforms(values: pd.Series, cells: pa.ChunkedArray, col: Column) -> bool:
    """Only ``str`` cells; nulls counted, and domain and pattern checked on the distinct cells, in Arrow."""
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return False
    if not (pa.types.is_string(cells.type) or pa.types.is_null(cells.type)):
        return False
    if col.required and cells.null_count:
        return False
    distinct = pc.unique(cells.drop_null().cast(pa.string()))  # a person or a month repeats a lot
    checks = []
    if col.values:
        checks.append(pc.is_in(distinct, value_set=pa.array(list(col.values), type=pa.string())))
    if col.kind in PATTERNS:
        # RE2 (Arrow) is stricter than Python's re here: `$` never matches before a trailing newline, `\d` is ASCII.
        checks.append(pc.match_substring_regex(distinct, PATTERNS[col.kind]))
    return not len(distinct) or all(pc.all(check).as_py() for check in checks)


def _typed_conforms(values: pd.Series, col: Column) -> bool:
    """Exactly the schema's dtype; nulls, domain and range checked on the values."""
    if values.dtype != _EXACT_DTYPES[DTYPE[col.kind]]:
        return False
    present = values.dropna()
    if col.required and len(present) != len(values):
        return False
    if col.values and not present.isin(list(col.values)).all():
        return False
    return ((col.minimum is None or bool((present >= col.minimum).all()))
            and (col.maximum is None or bool((present <= col.maximum).all())))


def conforms(frame: pd.DataFrame, arrow: pa.Table, table: str) -> bool:
    """Vectorised check that ``frame`` (and ``arrow``, the same rows as written) passes the pandera schema of
    ``table`` (same columns, dtypes, nulls, domains, patterns and key), at least as strictly: True means pandera
    would pass it, False means "ask pandera".

    pandera checks a ``str`` column value by value in Python and imports in ~0.7 s; this runs in C/Arrow, on the
    Arrow columns the Parquet file is written from (converting text to Arrow twice cost as much as the checks).
    """
    spec = TABLES[table]
    columns = spec.processed_columns
    if list(frame.columns) != [c.name for c in columns] or arrow.column_names != list(frame.columns):
        return False
    for i, col in enumerate(columns):
        values = frame.iloc[:, i]
        ok = _text_conforms(values, arrow.column(i), col) if DTYPE[col.kind] == "str" else _typed_conforms(values, col)
        if not ok:
            return False
    return not spec.key or _key_unique(frame, arrow, spec.key)


def row_codes(columns: Sequence[np.ndarray]) -> np.ndarray:
    """One integer per row, equal exactly where every column's code is (codes ≥ -1, as ``pd.factorize`` gives them).

    Mixed radix, compressed before it could overflow: rows are then compared by hashing one integer each, not by
    ``DataFrame.duplicated``, which factorizes every column again.
    """
    ids = np.zeros(len(columns[0]) if len(columns) else 0, dtype=np.int64)
    n_ids = 1
    for codes in columns:
        size = int(codes.max(initial=-1)) + 2  # codes -1 … max become 0 … max + 1
        if n_ids * size > 2**62:
            ids, distinct = pd.factorize(ids)
            n_ids = len(distinct)
        ids = ids * size + (codes + 1)
        n_ids *= size
    return ids


def _key_unique(frame: pd.DataFrame, arrow: pa.Table, key: Sequence[str]) -> bool:
    """No two rows share the key (a missing value matching a missing one, as in pandas).

    Arrow's dictionary codes hash the bytes, not Python objects: half the time of ``DataFrame.duplicated``.
    Floats compare by value in pandas (0.0 = -0.0) but by bits in Arrow, so a float key is left to pandas.
    """
    if any(pa.types.is_floating(arrow.schema.field(k).type) for k in key):
        return not frame.duplicated(subset=list(key)).any()
    codes = [pc.dictionary_encode(arrow.column(k).combine_chunks(), null_encoding="encode").indices.to_numpy()
             for k in key]
    return not pd.Series(row_codes(codes)).duplicated().any()


def validate(frame: pd.DataFrame, table: str, arrow: pa.Table | None = None) -> None:
    """Raise ``SchemaError`` unless ``frame`` passes the schema of ``table``; pandera only when the fast check
    cannot vouch for the frame (or there is no ``arrow`` copy), so a failure is reported exactly as pandera finds it."""
    if arrow is not None and conforms(frame, arrow, table):
        return
    import pandera.errors

    try:
        pandera_schema(table).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases[["column", "check"]].drop_duplicates().head(10).to_dict("records")
        raise SchemaError(f"processed table '{table}' fails its schema: {cases}") from None


def write_table(frame: pd.DataFrame, table: str, path: Path) -> dict[str, object]:
    """Validate ``frame`` against the schema of ``table``, write it, and return rows and sha256.

    The frame is converted to Arrow once, for the checks and for the file: the same table and Parquet options
    as ``DataFrame.to_parquet(index=False)``, so the file is byte for byte what pandas writes.
    """
    try:
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
    except Exception:
        validate(frame, table)  # a frame Arrow cannot hold: the schema's verdict first, else Arrow's error
        raise
    validate(frame, table, arrow)
    _write_atomically(path, lambda tmp: pq.write_table(arrow, tmp, compression="snappy"))
    return {"rows": len(frame), "sha256": file_sha256(path)}


def copy_table(frame: pd.DataFrame, table: str, arrow: pa.Table, source: Path, path: Path) -> None:
    """Validate ``frame`` and ``arrow``, both read from ``source`` (a file ``write_table`` wrote), and copy ``source``
    to ``path``.

    Writing ``frame`` again would give the same bytes (with the same pyarrow and pandas, Parquet → pandas →
    Parquet is a fixed point for the schemas' dtypes), but converting and encoding it again costs more than the
    checks.
    """
    validate(frame, table, arrow)
    _write_atomically(path, lambda tmp: shutil.copyfile(source, tmp))


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` to a temporary file beside ``path``, then rename: a crash never leaves half a table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def read_table_and_arrow(folder: Path, table: str) -> tuple[pd.DataFrame, pa.Table]:
    """A processed table, and the Arrow table it was converted from (kept for checks, so nothing is read twice).

    ``pd.read_parquet`` (pyarrow engine, default options) is this same ``pq.read_table(...).to_pandas()``.
    """
    arrow = pq.read_table(folder / f"{table}.parquet")
    return arrow.to_pandas(), arrow
