"""Parsing and the row-level rules of data-contract §1–2.

Each row is checked against the rules in a fixed order and quarantined under
the first one it breaks; it is never dropped silently and never counted twice,
which is what makes ``rows_read = rows_clean + rows_quarantined`` hold.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from analysis.ingest.errors import SchemaError
from analysis.ingest.labels import map_labels
from analysis.ingest.pseudonym import Pseudonymiser, cpr_shaped, normalise_cpr, scrub_cpr
from analysis.ingest.reading import RawExtract, by_unique, parse_dates, parse_months, parse_numbers, stripped
from analysis.ingest.schemas import DTYPE, Column, Table, category_column
from analysis.ingest.storage import row_codes

RULES = {  # a row is quarantined under the first it breaks (cell rules column by column, then row rules)
    "bad_field_count": "a line with more or fewer fields than the header (a stray separator, a cut line)",
    "merged_cell": "a cell hidden by a merged range of the workbook (only the range's first cell holds a value)",
    "missing_value": "a required cell is empty",
    "cpr_malformed": "cpr is not DDMMYY-SSSS or 10 digits with month 01–12 and day 01–31 or 61–91",
    "cpr_in_value": "an id, key or number column holds a value shaped like a CPR number (any spelling)",
    "bad_date": "a date is not DD-MM-YYYY or YYYY-MM-DD (a month not YYYY-MM)",
    "bad_number": "a number does not parse with the file's decimal mark, or an integer has decimals",
    "bad_value": "a value outside its enumeration, outside its range (data contract), or not a 3-digit code",
    "end_before_start": "an end date before its start date",
    "future_date": "a date after the extract date (planned register dates excepted)",
    "overlapping_period": "a validity period overlapping an earlier one of the same group",
    "duplicate": "an exact copy (after parsing) of an earlier row",
    "duplicate_key": "the key of an earlier row",
    "unknown_reference": "a reference to a key the referenced extract does not have",
}


# Kinds where a CPR-shaped cell would parse and be written as it is (an id; digits as a number). Free text is
# masked instead; a CPR in a date, month, enum or code column fails to parse and its quarantined row is masked.
_PASS_AS_TYPED = frozenset({"id", "number", "integer", "count"})


class Flags:
    """First rule broken per row (None = clean so far), with the column and a detail text."""

    def __init__(self, n: int):
        self.rule = np.full(n, None, dtype=object)
        self.column = np.full(n, "", dtype=object)
        self.detail = np.full(n, "", dtype=object)
        self._ok = np.ones(n, dtype=bool)  # kept alongside ``rule``: testing an object array for None is slow

    @property
    def ok(self) -> np.ndarray:
        return self._ok.copy()

    def flag(self, mask: pd.Series | np.ndarray, rule: str, column: str, detail: str, values: pd.Series | None = None) -> None:
        """Flag rows not flagged yet; ``values`` (the offending cells) are appended to the detail of hit rows only."""
        hit = np.asarray(mask, dtype=bool) & self._ok
        if not hit.any():
            return
        self._ok[hit] = False
        self.rule[hit] = rule
        self.column[hit] = column
        self.detail[hit] = detail if values is None else (detail + ": " + values[hit].astype(str)).to_numpy()


@dataclass
class Checked:
    """One extract after the rules: clean processed rows, the flags, and what the quality report needs."""

    clean: pd.DataFrame
    flags: Flags
    person_id: pd.Series | None
    unmapped: dict[str, dict[str, int]] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)


def check_columns(raw: RawExtract, spec: Table) -> list[str]:
    """A missing column is a structural error naming file and column; extra ones are returned."""
    present = list(raw.frame.columns)
    missing = [c for c in spec.raw_columns if c not in present]
    if missing:
        raise SchemaError(f"{raw.path}: required column(s) missing: {', '.join(missing)} "
                          f"(found: {', '.join(present)})")
    return [c for c in present if c not in spec.raw_columns]


def _parse_column(col: Column, text: pd.Series, decimal: str, flags: Flags) -> pd.Series:
    """Parsed values of one column (``text``: its ``stripped`` cells); unparseable or out-of-domain values are flagged."""
    empty = text == ""
    if col.kind in _PASS_AS_TYPED:
        flags.flag(cpr_shaped(text), "cpr_in_value", col.raw, "shaped like a CPR number (value not shown)")
    if col.kind == "date":
        parsed, bad = parse_dates(text, already_stripped=True)
        flags.flag(bad, "bad_date", col.raw, "not a date (DD-MM-YYYY or YYYY-MM-DD)", text)
    elif col.kind == "month":
        parsed, bad = parse_months(text, already_stripped=True)
        flags.flag(bad, "bad_date", col.raw, "not a month (YYYY-MM)", text)
    elif col.kind in {"number", "integer", "count"}:
        parsed, bad = parse_numbers(text, decimal, already_stripped=True)
        flags.flag(bad, "bad_number", col.raw, f"not a number (decimal '{decimal}')", text)
        if col.kind in {"integer", "count"}:
            flags.flag(parsed.notna() & (parsed % 1 != 0), "bad_number", col.raw, "not a whole number", text)
        if col.minimum is not None:
            flags.flag(parsed < col.minimum, "bad_value", col.raw, f"below {col.minimum:g}", text)
        if col.maximum is not None:
            flags.flag(parsed > col.maximum, "bad_value", col.raw, f"above {col.maximum:g}", text)
    elif col.kind == "enum":
        allowed = {v.casefold(): v for v in col.values}
        parsed = by_unique(text, lambda u: u.str.casefold().map(allowed))
        flags.flag(parsed.isna() & ~empty, "bad_value", col.raw, f"not one of {', '.join(col.values)}", text)
    elif col.kind == "code3":
        parsed = text.astype(object).where(~empty, None)
        code = by_unique(text, lambda u: u.str.fullmatch(r"\d{3}"))
        flags.flag(~code.astype(bool) & ~empty, "bad_value", col.raw, "not a 3-digit code", text)
    elif col.kind in {"text", "label"}:
        parsed = scrub_cpr(text).astype(object).where(~empty, None)
    else:
        parsed = text.astype(object).where(~empty, None)
    return parsed


def _period_rules(spec: Table, parsed: dict[str, pd.Series], flags: Flags, extract_date: pd.Timestamp) -> None:
    for start, end in spec.periods:
        raw_end = spec.column(end).raw
        flags.flag(parsed[end] < parsed[start], "end_before_start", raw_end,
                   f"{raw_end} before {spec.column(start).raw}")
    for col in spec.columns:
        if col.kind == "date" and not col.planned:
            flags.flag(parsed[col.name] > extract_date, "future_date", col.raw,
                       f"after the extract date {extract_date.date()}")
        elif col.kind == "month":
            flags.flag(parsed[col.name] > extract_date.strftime("%Y-%m"), "future_date", col.raw,
                       f"after the extract month {extract_date:%Y-%m}")


def _overlapping_periods(spec: Table, frame: pd.DataFrame, flags: Flags) -> None:
    """Rows of one key group (e.g. shelter and paragraph) whose validity periods overlap: the later is flagged."""
    group = list(spec.no_overlap)
    start, end = spec.periods[0]
    ok = frame[flags.ok].sort_values([*group, start])
    reach = ok[end].fillna(pd.Timestamp.max)
    previous = reach.groupby([ok[g] for g in group]).cummax().groupby([ok[g] for g in group]).shift()
    overlap = pd.Series(False, index=frame.index)
    overlap[ok.index] = (ok[start] <= previous).to_numpy()
    flags.flag(overlap, "overlapping_period", spec.column(start).raw,
               f"overlaps an earlier period of the same {', '.join(group)}")


def _repeated(codes: dict[str, np.ndarray], columns: Sequence[str], rows: np.ndarray) -> np.ndarray:
    """Rows of the mask ``rows`` equal in ``columns`` to an earlier row of it, from per-column codes (-1: missing)."""
    ids = row_codes([codes[c] for c in columns])
    repeated = np.zeros(len(rows), dtype=bool)
    repeated[rows] = pd.Series(ids[rows]).duplicated(keep="first").to_numpy()
    return repeated


def check_extract(
    raw: RawExtract, spec: Table, pseudonyms: Pseudonymiser, extract_date: pd.Timestamp, known: dict[str, pd.Index],
) -> Checked:
    """Parse every column, apply the row rules, and return the clean rows under their processed names."""
    extra = check_columns(raw, spec)
    frame = raw.frame
    flags = Flags(len(frame))
    for position, (rule, column, detail) in raw.broken.items():  # what the reader could not take as delivered
        one = np.zeros(len(frame), dtype=bool)
        one[position] = True
        flags.flag(one, rule, column, detail)
    texts = {c.raw: stripped(frame[c.raw]) for c in spec.columns}
    for col in spec.columns:
        if col.required:
            flags.flag(texts[col.raw] == "", "missing_value", col.raw, "required value is empty")

    parsed: dict[str, pd.Series] = {}
    person = None
    for col in spec.columns:
        if col.kind == "cpr":
            cpr10 = normalise_cpr(texts[col.raw])
            flags.flag(cpr10.isna(), "cpr_malformed", col.raw, "not a CPR number (DDMMYY-SSSS or 10 digits, valid day and month)")
            parsed["person_id"] = person = pseudonyms.person_ids(cpr10)
        else:
            parsed[col.name] = _parse_column(col, texts[col.raw], raw.decimal, flags)
    _period_rules(spec, parsed, flags, extract_date)
    table = pd.DataFrame(parsed, index=frame.index)

    if spec.no_overlap:
        _overlapping_periods(spec, table, flags)
    # Rows are compared through per-column codes, so each column is hashed once for both checks, not once each.
    codes = {name: pd.factorize(values)[0] for name, values in table.items()}
    flags.flag(_repeated(codes, list(codes), flags.ok), "duplicate", "", "exact copy of an earlier row")
    flags.flag(_repeated(codes, spec.key, flags.ok), "duplicate_key", ",".join(spec.raw_name(k) for k in spec.key),
               "key already used by an earlier row")
    for col, ref in spec.references:
        flags.flag(table[col].notna() & ~table[col].isin(known[ref]), "unknown_reference", spec.column(col).raw,
                   f"not a key of {ref}", table[col])

    clean = table[flags.ok].copy()
    unmapped: dict[str, dict[str, int]] = {}
    for col in spec.columns:
        if col.kind in {"integer", "count"}:
            clean[col.name] = clean[col.name].astype(DTYPE[col.kind])
        if col.kind == "label":
            clean[category_column(col)], unmapped[col.raw] = map_labels(clean[col.name], col.label or "")
    for end, implied in spec.ends.items():  # no reason category before the end has happened
        clean.loc[clean[end].isna(), [c for c in implied if c.endswith("_category")]] = None
    names = [c.name for c in spec.processed_columns]
    return Checked(clean[names].reset_index(drop=True), flags, person, unmapped, extra)
