"""Reading raw extracts as delivered: CSV the way Danish Excel writes it, or .xlsx.

Every cell is read as text and parsed afterwards, column by column, so a value
that does not parse becomes a quarantined row (with its rule) instead of a
crash or a silent NaN. The detected encoding, separator and decimal mark are
kept for the data-quality report.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.ingest.errors import AmbiguousExtractError, EncodingError, MissingExtractError

log = logging.getLogger(__name__)

_DK_NUMBER = r"^-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"  # 4.750,00 or 4750,00
_DOT_NUMBER = r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class RawExtract:
    """One extract as text cells ('' = empty), with how it was read."""

    name: str
    path: Path
    frame: pd.DataFrame
    file_format: str  # csv | xlsx
    encoding: str  # utf-8 | utf-8-sig | cp1252 | xlsx
    separator: str  # ; | , | xlsx
    decimal: str  # , | .


def find_extract(raw_dir: Path, name: str) -> Path:
    """The one file of an extract; both formats at once is an error (which one is current?)."""
    found = [raw_dir / f"{name}{ext}" for ext in (".csv", ".xlsx") if (raw_dir / f"{name}{ext}").is_file()]
    if not found:
        raise MissingExtractError(f"{raw_dir}: missing extract '{name}' (expected {name}.csv or {name}.xlsx)")
    if len(found) > 1:
        raise AmbiguousExtractError(f"{raw_dir}: both {name}.csv and {name}.xlsx exist; keep only the delivered one")
    return found[0]


def detect_encoding(data: bytes, path: Path) -> str:
    """Strict UTF-8 (BOM noted) first, else Windows-1252; anything else is undecodable."""
    try:
        data.decode("utf-8")
        return "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError as exc:
        raise EncodingError(f"{path}: neither UTF-8 nor Windows-1252 (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from None


def detect_separator(header: str) -> str:
    """`;` as Danish Excel writes it; `,` only when the header is unambiguously comma-separated."""
    return "," if "," in header and ";" not in header else ";"


def _read_csv(path: Path) -> tuple[pd.DataFrame, str, str]:
    data = path.read_bytes()
    encoding = detect_encoding(data, path)
    header = data.split(b"\n", 1)[0].decode(encoding)
    del data
    sep = detect_separator(header)
    try:
        frame = pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False, na_filter=False, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        raise EncodingError(f"{path}: cannot be split into fields with separator '{sep}': {exc}") from None
    # A short line leaves NaN in its missing trailing fields, so always in the last one: only then fill (a full pass).
    return (frame.fillna("") if frame.iloc[:, -1].hasnans else frame), encoding, sep


def _cell_text(value: object) -> str:
    """An Excel cell as the text a CSV would hold (dates ISO, numbers with '.')."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column_text(cells: pd.Series) -> pd.Series:
    """``_cell_text`` of every cell, each distinct (type, value) once: dates repeat, and formatting one is slow."""
    if pd.api.types.infer_dtype(cells, skipna=False) == "string":
        return cells
    texts: dict[tuple[type, object], str] = {}

    def text(value: object) -> str:
        key = (type(value), value)  # the type too: True == 1 == 1.0, but their texts differ
        if key not in texts:
            texts[key] = _cell_text(value)
        return texts[key]

    return cells.map(text)


def _read_xlsx(path: Path) -> pd.DataFrame:
    # calamine (Rust) reads a sheet ~20× faster than openpyxl: the difference between seconds and minutes at scale.
    frame = pd.read_excel(path, sheet_name=0, dtype=object, engine="calamine", na_filter=False)
    frame.columns = [str(c) for c in frame.columns]
    numeric_cpr = {c: frame[c].map(lambda v: isinstance(v, (int, float))) for c in frame.columns if c.strip().lower() == "cpr"}
    frame = frame.apply(_column_text)
    for col, numeric in numeric_cpr.items():
        # Excel drops the leading zero of a CPR stored as a number; only then is padding unambiguous.
        frame.loc[numeric, col] = frame.loc[numeric, col].str.zfill(10)
    return frame


def read_extract(raw_dir: Path, name: str) -> RawExtract:
    """Read ``<name>.csv`` or ``<name>.xlsx`` (first sheet) as text, with normalised column names."""
    path = find_extract(raw_dir, name)
    if path.suffix == ".xlsx":
        frame, encoding, sep, decimal = _read_xlsx(path), "xlsx", "xlsx", "."
    else:
        frame, encoding, sep = _read_csv(path)
        decimal = "." if sep == "," else ","
    frame.columns = [str(c).strip().lstrip("\ufeff").lower() for c in frame.columns]
    frame = frame.reset_index(drop=True)
    log.info("read %s: %d rows (%s, encoding %s, separator %r)", path.name, len(frame), path.suffix[1:], encoding, sep)
    return RawExtract(name, path, frame, path.suffix[1:], encoding, sep, decimal)


def by_unique(values: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``parse`` to each distinct value once: extracts repeat dates, amounts and CPRs a lot."""
    codes, uniques = pd.factorize(values, sort=False)
    out = parse(pd.Series(uniques, dtype=object)).take(codes)
    out.index = values.index
    return out


def stripped(values: pd.Series) -> pd.Series:
    """Cells without surrounding whitespace, as a categorical: later parsing then sees each distinct text once.

    A categorical is stripped through its categories, and one already stripped comes back as is (re-encoding
    10⁵ distinct amounts is most of the cost); the parsers skip even that check for ``already_stripped`` cells.
    """
    categorical = isinstance(values.dtype, pd.CategoricalDtype)
    if categorical:
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories.to_numpy()
    else:
        codes, uniques = pd.factorize(values, sort=False)  # a missing cell has code -1 ...
    texts = pd.Index(uniques).astype(str).str.strip()
    if not np.array_equal(texts.to_numpy(), uniques):
        clean_codes, categories = pd.factorize(texts.append(pd.Index([""])))  # ... and -1 picks this last ""
    else:  # nothing to strip: the distinct cells stay distinct, and only "" may be missing
        blank = np.flatnonzero(texts == "")
        if categorical and len(blank) and (codes >= 0).all():
            return pd.Series(values.array, index=values.index)
        categories = texts if len(blank) else texts.append(pd.Index([""]))
        clean_codes = np.append(np.arange(len(texts)), blank[0] if len(blank) else len(texts))
    return pd.Series(pd.Categorical.from_codes(clean_codes[codes], categories), index=values.index)


def parse_dates(values: pd.Series, *, already_stripped: bool = False) -> tuple[pd.Series, pd.Series]:
    """DD-MM-YYYY or ISO (mixed allowed) → (datetime64[ns], mask of non-empty values that failed).

    ``already_stripped``: ``values`` is what ``stripped`` returned (``rules`` strips every column first).
    """
    text = values if already_stripped else stripped(values)

    def parse(u: pd.Series) -> pd.Series:
        iso = pd.to_datetime(u, format="%Y-%m-%d", errors="coerce")
        dk = pd.to_datetime(u[iso.isna()], format="%d-%m-%Y", errors="coerce")  # only what is not ISO
        return iso.fillna(dk).astype("datetime64[ns]")

    parsed = by_unique(text, parse)
    return parsed, parsed.isna() & (text != "")


def parse_numbers(values: pd.Series, decimal: str, *, already_stripped: bool = False) -> tuple[pd.Series, pd.Series]:
    """Numbers with decimal comma (thousands dots) or decimal point → (float64, mask of failures)."""
    text = values if already_stripped else stripped(values)
    pattern = _DK_NUMBER if decimal == "," else _DOT_NUMBER

    def parse(u: pd.Series) -> pd.Series:
        # Amounts are nearly all distinct, so this runs in Arrow's vectorised kernels, not per value in Python.
        cells = pa.array(u.to_numpy(dtype=object), type=pa.string())
        text = pc.replace_substring(pc.replace_substring(cells, ".", ""), ",", ".") if decimal == "," else cells
        valid = pc.match_substring_regex(cells, pattern)
        numbers = pc.cast(pc.if_else(valid, text, pa.scalar(None, pa.string())), pa.float64())
        return pd.Series(numbers.to_numpy(zero_copy_only=False), dtype="float64")

    parsed = by_unique(text, parse)
    return parsed, parsed.isna() & (text != "")


def parse_months(values: pd.Series, *, already_stripped: bool = False) -> tuple[pd.Series, pd.Series]:
    """``YYYY-MM`` (or a full date, as Excel stores months) → (``YYYY-MM`` text, mask of failures)."""
    text = values if already_stripped else stripped(values)

    def parse(u: pd.Series) -> pd.Series:
        dates, _ = parse_dates(u, already_stripped=True)
        as_month = dates.dt.strftime("%Y-%m")
        return u.where(u.str.match(_MONTH), as_month).astype(object).where(lambda s: s.notna(), None)

    parsed = by_unique(text, parse)
    return parsed, parsed.isna() & (text != "")
