"""Reading raw extracts as delivered: CSV the way Danish Excel writes it, or .xlsx.

Every cell is read as text and parsed afterwards, column by column, so a value
that does not parse becomes a quarantined row (with its rule) instead of a
crash or a silent NaN. The detected encoding, separator and decimal mark are
kept for the data-quality report.
"""
from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis.ingest.errors import (
    AmbiguousExtractError, EncodingError, ExtractTooLargeError, MissingExtractError, SchemaError,
)

log = logging.getLogger(__name__)

_DK_NUMBER = r"^-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"  # 4.750,00 or 4750,00
_DOT_NUMBER = r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class RawExtract:
    """One extract as text cells ('' = empty), with how it was read.

    ``broken`` maps row positions to (rule, column, detail) for rows the reader could not take as delivered
    (a line with the wrong number of fields, a cell hidden by a merged range): they stay in ``frame`` as empty
    rows, so the rules quarantine them under that rule and every line of the file is counted.
    """

    name: str
    path: Path
    frame: pd.DataFrame
    file_format: str  # csv | xlsx
    encoding: str  # utf-8 | utf-8-sig | cp1252 | xlsx
    separator: str  # ; | , | xlsx
    decimal: str  # , | .
    broken: dict[int, tuple[str, str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """Size limits checked while a file is read, before memory grows (``ingest.*`` parameters)."""

    max_file_mb: float = 1024
    max_field_chars: int = 32767

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 2**20)

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> "Limits":
        return cls(float(params["ingest.max_file_mb"]), int(params["ingest.max_field_chars"]))


def find_extract(raw_dir: Path, name: str) -> Path:
    """The one file of an extract; both formats at once is an error (which one is current?)."""
    found = [raw_dir / f"{name}{ext}" for ext in (".csv", ".xlsx") if (raw_dir / f"{name}{ext}").is_file()]
    if not found:
        raise MissingExtractError(f"{raw_dir}: missing extract '{name}' (expected {name}.csv or {name}.xlsx)")
    if len(found) > 1:
        raise AmbiguousExtractError(f"{raw_dir}: both {name}.csv and {name}.xlsx exist; keep only the delivered one")
    return found[0]


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def _control_at(data: bytes) -> int | None:
    """Offset of the first control character (never in a text export: a damaged or binary file), vectorised."""
    b = np.frombuffer(data, dtype=np.uint8)
    return _first(((b < 0x20) & (b != 9) & (b != 10) & (b != 13)) | (b == 0x7F))


def _utf8_letter_at(data: bytes) -> int | None:
    """Offset of the first UTF-8 multi-byte sequence (a lead byte C2–F4 and a continuation byte 80–BF).

    Windows-1252 text has that pair only where a letter such as 'Ø' is followed by a sign such as '°': not
    in names and reasons. Vectorised: a regex over a 100 MB extract takes seconds.
    """
    b = np.frombuffer(data, dtype=np.uint8)
    return _first((b[:-1] >= 0xC2) & (b[:-1] <= 0xF4) & (b[1:] >= 0x80) & (b[1:] <= 0xBF))


def _line_of(data: bytes, offset: int) -> int:
    """1-based physical line (the header is line 1) holding byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def detect_encoding(data: bytes, path: Path) -> str:
    """One encoding for the whole file: strict UTF-8 (BOM noted), else Windows-1252 — never a mixture.

    Windows-1252 decodes almost any byte, so a UTF-8 file with one Windows-1252 line would otherwise be read
    entirely as Windows-1252 ("FÃ¦ngsel"). A file is taken as Windows-1252 only when it holds no UTF-8
    multi-byte letter at all; otherwise the first line that breaks UTF-8 is named and the file refused.
    """
    control = _control_at(data)
    if control is not None:
        raise EncodingError(f"{path}: line {_line_of(data, control)} holds a control character: "
                            "the file is damaged or not a text export")
    try:
        data.decode("utf-8")
        return "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError as exc:
        bad_line = _line_of(data, exc.start)
    utf8 = _utf8_letter_at(data)
    if utf8 is not None:
        raise EncodingError(f"{path}: mixed encodings: line {bad_line} is not UTF-8, but line "
                            f"{_line_of(data, utf8)} is; save the whole file in one encoding")
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError as exc:
        raise EncodingError(f"{path}: line {_line_of(data, exc.start)} is neither UTF-8 nor Windows-1252") from None


def detect_separator(header: str) -> str:
    """`;` as Danish Excel writes it; `,` only when the header is unambiguously comma-separated."""
    return "," if "," in header and ";" not in header else ";"


def _normalise(name: object) -> str:
    return str(name).strip().lstrip("\ufeff").strip().lower()


def _header_names(path: Path, cells: list[object], required: Sequence[str]) -> list[str]:
    """Normalised header names; a name twice (``cpr`` and ``CPR``: which one holds the data?) is refused.

    Blank names (empty trailing columns of a workbook) may repeat. Only contract column names are quoted: what
    else a header holds was typed by someone and is not checked.
    """
    names = [_normalise(c) for c in cells]
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        shown = [n if n in required else f"column {names.index(n) + 1}" for n in twice]
        raise SchemaError(f"{path}: header (line 1) has the same column twice after ignoring case and spaces: "
                          f"{', '.join(shown)}")
    return names


def _read_limited(path: Path, limits: Limits) -> bytes:
    """The file's bytes, read in chunks; refused as soon as it passes the file limit or holds a line so long
    that one of its fields must pass the field limit (so a 200 MB cell never reaches the parser)."""
    if path.stat().st_size > limits.max_file_bytes:
        raise ExtractTooLargeError(f"{path}: {path.stat().st_size / 2**20:,.0f} MB, above the limit of "
                                   f"{limits.max_file_mb:,.0f} MB (parameter ingest.max_file_mb)")
    chunks: list[bytes] = []
    size, line, line_start, fields = 0, 1, 0, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(8 * 2**20):
            size += len(chunk)
            if size > limits.max_file_bytes:  # the file grew while being read
                raise ExtractTooLargeError(f"{path}: above the limit of {limits.max_file_mb:,.0f} MB "
                                           "(parameter ingest.max_file_mb)")
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10) + (size - len(chunk))
            if not fields:  # the header's field count (first chunk) bounds a sound line's length
                fields = 1 + max(chunk.split(b"\n", 1)[0].count(s) for s in (b";", b","))
            bound = fields * (4 * limits.max_field_chars + 3)  # 4 bytes per character at most, quotes, separator
            starts = np.concatenate(([line_start], ends + 1))  # the last "line" is the one still open
            lengths = np.append(ends, size) - starts
            if lengths.max() > bound:
                first = int(np.argmax(lengths > bound))
                raise ExtractTooLargeError(f"{path}: line {line + first} is longer than {fields} fields of at most "
                                           f"{limits.max_field_chars:,} characters (parameter ingest.max_field_chars)")
            if len(ends):
                line, line_start = line + len(ends), int(ends[-1]) + 1
            chunks.append(chunk)
    return b"".join(chunks)


def _line_bounds(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of every physical line (vectorised: no per-line Python)."""
    ends = np.append(np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10), len(data))
    return np.concatenate(([0], ends[:-1] + 1)), ends


def _check_fields(path: Path, data: bytes, sep: str, names: list[str], limits: Limits) -> int:
    """Refuse a field longer than the limit, naming line and column; returns the longest line's length.

    A field is never longer than its line, so only the few lines longer than the limit are split.
    """
    starts, ends = _line_bounds(data)
    lengths = ends - starts
    for i in np.flatnonzero(lengths > limits.max_field_chars):
        line = data[starts[i]:ends[i]].decode("utf-8").rstrip("\r")
        for j, cell in enumerate(next(csv.reader([line], delimiter=sep), [])):
            if len(cell) > limits.max_field_chars:
                column = names[j] if j < len(names) else f"field {j + 1}"
                raise ExtractTooLargeError(f"{path}: line {i + 1}, column {column}: {len(cell):,} characters, "
                                           f"above the limit of {limits.max_field_chars:,} "
                                           "(parameter ingest.max_field_chars)")
    return int(lengths.max()) if len(lengths) else 0


def _split_header(path: Path, header: str, required: Sequence[str]) -> tuple[str, list[str]]:
    """The separator that splits the header into the contract's columns, and the normalised names."""
    tried: dict[str, list[str]] = {}
    for sep in sorted((";", ","), key=lambda s: s != detect_separator(header)):
        names = [_normalise(c) for c in next(csv.reader([header], delimiter=sep), [])]
        tried[sep] = [c for c in required if c not in names]
        if not tried[sep]:
            return sep, _header_names(path, names, required)
    sep = min(tried, key=lambda s: len(tried[s]))
    raise SchemaError(f"{path}: the header (line 1) does not split into the contract's columns with ';' or ','; "
                      f"with '{sep}' these are missing: {', '.join(tried[sep])}")


def _line_ends(data: bytes, path: Path) -> bytes:
    """LF or CRLF line ends (CR alone, as old Mac Excel writes them, becomes LF); a CR inside a line is damage.

    The parser would take a stray CR for a line end and split the line in two, out of step with the line
    numbers every message quotes, so such a file is refused with the line. So is a file whose last line has no
    line break: a copy cut short, whose lost rows would otherwise leave no trace.
    """
    if b"\n" not in data:
        data = data.replace(b"\r", b"\n")
    stray = re.search(rb"\r(?!\n)", data)
    if stray:
        raise EncodingError(f"{path}: line {_line_of(data, stray.start())} holds a carriage return inside the line: "
                            "the file is damaged")
    if b"\n" in data.rstrip(b"\n") and not data.endswith(b"\n"):  # a header alone may end without a break
        raise EncodingError(f"{path}: the file ends in the middle of line {_line_of(data, len(data))}: cut short? "
                            "(an export ends every line, the last one too, with a line break)")
    return data


def _read_csv(path: Path, required: Sequence[str], limits: Limits) -> RawExtract:
    data = _read_limited(path, limits)
    encoding = detect_encoding(data, path)
    data = _line_ends(data, path)
    if encoding == "cp1252":
        data = data.decode("cp1252").encode("utf-8")  # the parser reads UTF-8
    data = data.removeprefix(b"\xef\xbb\xbf")
    header = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    if not header.strip():
        raise SchemaError(f"{path}: empty file: no header line")
    sep, names = _split_header(path, header, required)
    longest = _check_fields(path, data, sep, names, limits)
    frame, broken = _parse_csv(data, sep, names, path, block_size=max(2**20, 2 * longest + 64))
    return RawExtract(path.stem, path, frame, "csv", encoding, sep, "." if sep == "," else ",", broken)


def _parse_csv(data: bytes, sep: str, names: list[str], path: Path,
               block_size: int) -> tuple[pd.DataFrame, dict[int, tuple[str, str, str]]]:
    """Every cell as text; never an inferred index column, and a line with the wrong number of fields is
    kept as an empty row (rule ``bad_field_count``) at its place, not shifted into its neighbours' columns.

    A quoted value may hold line breaks (a cell typed over several lines), but one that runs over lines shaped
    like rows of their own is a stray quote that swallowed them: the file is refused, since how many rows were
    swallowed cannot be told.
    """
    bad: list[tuple[int, int]] = []
    swallowing: list[int] = []  # raised after parsing: pyarrow ignores an exception inside the handler

    def invalid(row: pacsv.InvalidRow) -> str:
        if _swallowed(row.text, sep, len(names)):
            swallowing.append(row.number)
        bad.append((row.number, row.actual_columns))
        return "skip"

    columns = [f"c{i}" for i in range(len(names))]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=False, column_names=columns, skip_rows=1,
                                           block_size=block_size),
            parse_options=pacsv.ParseOptions(delimiter=sep, invalid_row_handler=invalid, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in columns}, strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return pd.DataFrame({n: pd.Series([], dtype=object) for n in names}), {}
        # the parser's own message quotes the line it choked on, and a line may hold a CPR number
        raise EncodingError(f"{path}: cannot be split into fields with separator '{sep}'") from None
    if swallowing:
        raise EncodingError(f"{path}: line {swallowing[0]}: {_SWALLOWED}")
    for i, column in enumerate(table.columns):
        for cell in np.flatnonzero(pc.match_substring(column, "\n").to_numpy(zero_copy_only=False)):
            if _swallowed(column[int(cell)].as_py(), sep, len(names)):
                raise EncodingError(f"{path}: data row {int(cell) + 1 + len(bad)} or before, column {names[i]}: "
                                    f"{_SWALLOWED}")
    good = table.to_pandas()
    good.columns = names
    if not bad:
        return good, {}
    total = len(good) + len(bad)
    positions: list[int] = []
    for i, (number, _) in enumerate(sorted(bad, key=lambda b: b[0] or 0)):
        # a line's data-row position (line 1 is the header), kept increasing and inside the frame
        wanted = (number or 2) - 2
        positions.append(min(max(wanted, positions[-1] + 1 if positions else 0), total - len(bad) + i))
    keep = np.ones(total, dtype=bool)
    keep[positions] = False
    frame = pd.DataFrame({n: np.full(total, "", dtype=object) for n in names})
    for n in names:
        frame.loc[keep, n] = good[n].to_numpy(dtype=object)
    broken = {pos: ("bad_field_count", "", f"line {number}: {fields} fields, the header has {len(names)}")
              for pos, (number, fields) in zip(positions, sorted(bad, key=lambda b: b[0] or 0))}
    return frame, broken


_SWALLOWED = "a quote opens a value that runs over lines shaped like rows of their own (a stray quote?)"


def _swallowed(text: str, sep: str, fields: int) -> bool:
    """Whether a value's continuation lines look like whole rows (as many separators as the header has)."""
    return any(line.count(sep) >= fields - 1 for line in text.split("\n")[1:])


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


_XLSX_DAMAGED = "not a readable .xlsx workbook (damaged, truncated or another format); save it again from Excel"


def _first_sheet_xml(book: zipfile.ZipFile) -> str | None:
    """The first sheet's XML part, as workbook.xml orders the sheets."""
    workbook = book.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    first = re.search(r"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook)
    target = first and re.search(rf"<Relationship\b[^>]*?Id=\"{re.escape(first.group(1))}\"[^>]*?Target=\"([^\"]+)\"",
                                 rels) or (first and re.search(
                                     rf"<Relationship\b[^>]*?Target=\"([^\"]+)\"[^>]*?Id=\"{re.escape(first.group(1))}\"", rels))
    if not target:
        return None
    name = target.group(1).lstrip("/")
    return name if name.startswith("xl/") else f"xl/{name}"


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _merged_ranges(path: Path, limits: Limits) -> list[tuple[str, int, int, int, int]]:
    """Merged ranges of the first sheet as (ref, first row, last row, first col, last col), 0-based, header row 0.

    The workbook is opened as the zip it is; its unpacked size counts against the file limit (a zip bomb is
    refused before anything is unpacked).
    """
    try:
        with zipfile.ZipFile(path) as book:
            unpacked = sum(i.file_size for i in book.infolist())
            if unpacked > limits.max_file_bytes:
                raise ExtractTooLargeError(f"{path}: {unpacked / 2**20:,.0f} MB unpacked, above the limit of "
                                           f"{limits.max_file_mb:,.0f} MB (parameter ingest.max_file_mb)")
            sheet = _first_sheet_xml(book)
            xml = book.read(sheet).decode("utf-8", "replace") if sheet and sheet in book.namelist() else ""
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error):
        raise EncodingError(f"{path}: {_XLSX_DAMAGED}") from None
    ranges = []
    for ref in re.findall(r"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]+\d+:[A-Z]+\d+)\"", xml):
        (c1, r1), (c2, r2) = (re.match(r"([A-Z]+)(\d+)", part).groups() for part in ref.split(":"))
        ranges.append((ref, int(r1) - 1, int(r2) - 1, _column_index(c1), _column_index(c2)))
    return ranges


def _read_xlsx(path: Path, required: Sequence[str], limits: Limits) -> RawExtract:
    if path.stat().st_size > limits.max_file_bytes:
        raise ExtractTooLargeError(f"{path}: {path.stat().st_size / 2**20:,.0f} MB, above the limit of "
                                   f"{limits.max_file_mb:,.0f} MB (parameter ingest.max_file_mb)")
    merged = _merged_ranges(path, limits)
    try:
        # calamine (Rust) reads a sheet ~20× faster than openpyxl: the difference between seconds and minutes at scale.
        # header=None: the header is checked as written (pandas would rename a repeated name to "cpr.1").
        sheet = pd.read_excel(path, sheet_name=0, dtype=object, engine="calamine", na_filter=False, header=None)
    except Exception:  # noqa: BLE001 - calamine's errors name no file; any of them means the workbook is unreadable
        raise EncodingError(f"{path}: {_XLSX_DAMAGED}") from None
    if sheet.empty:
        raise SchemaError(f"{path}: empty sheet: no header row")
    names = _header_names(path, list(sheet.iloc[0].map(_cell_text)), required)
    frame = sheet.iloc[1:].reset_index(drop=True)
    frame.columns = names
    numeric_cpr = {c: frame[c].map(lambda v: isinstance(v, (int, float))) for c in frame.columns if c == "cpr"}
    frame = frame.apply(_column_text) if len(frame) else frame.astype(object)
    for col, numeric in numeric_cpr.items():
        # Excel drops the leading zero of a CPR stored as a number; only then is padding unambiguous.
        frame.loc[numeric, col] = frame.loc[numeric, col].str.zfill(10)
    for col in frame.columns:
        long = frame[col].str.len() > limits.max_field_chars
        if long.any():
            raise ExtractTooLargeError(f"{path}: row {int(np.argmax(long.to_numpy())) + 2}, column {col}: a cell above "
                                       f"{limits.max_field_chars:,} characters (parameter ingest.max_field_chars)")
    broken: dict[int, tuple[str, str, str]] = {}
    for ref, r1, r2, c1, c2 in merged:
        for row in range(max(r1, 1), min(r2, len(frame)) + 1):
            if row == r1 and c1 == c2:
                continue  # the top cell of a vertical range holds the value
            column = names[c1] if c1 < len(names) else f"column {c1 + 1}"
            broken.setdefault(row - 1, ("merged_cell", column, f"merged cells {ref}: only the first cell holds a value"))
    return RawExtract(path.stem, path, frame, "xlsx", "xlsx", "xlsx", ".", broken)


def read_extract(raw_dir: Path, name: str, required: Sequence[str] = (), limits: Limits = Limits()) -> RawExtract:
    """Read ``<name>.csv`` or ``<name>.xlsx`` (first sheet) as text, with normalised column names.

    ``required``: the contract's columns, which the header must hold (it picks the CSV separator).
    """
    path = find_extract(raw_dir, name)
    extract = _read_xlsx(path, required, limits) if path.suffix == ".xlsx" else _read_csv(path, required, limits)
    extract.name = name
    log.info("read %s: %d rows (%s, encoding %s, separator %r)", path.name, len(extract.frame), extract.file_format,
             extract.encoding, extract.separator)
    return extract


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
