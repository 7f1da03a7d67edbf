"""Disclosure control for what is published: primary and secondary suppression.

Small counts of persons can identify people (data contract §5). Hiding a small
cell is not enough when a published total lets a reader subtract the visible
cells from it, so cells that add up to a published total form a *group*, and a
group whose hidden cells could be recovered by subtraction loses one more cell
(the smallest non-zero one, so that as little as possible is hidden). Rules and
catalogue keys are documented in docs/rendering.md.
"""
from __future__ import annotations

import logging
import math
from typing import Any, Hashable, Iterable, Mapping, Sequence

import pandas as pd

from analysis.base import fmt

log = logging.getLogger(__name__)

PERSON_COUNT_KINDS = frozenset({"person_count"})
DERIVED_KINDS = frozenset({"person_share", "person_median", "survival"})
NEVER_SUPPRESSED_KINDS = frozenset({"dwelling_count", "place_count", "money", "rows", "rate", "model"})
KINDS = PERSON_COUNT_KINDS | DERIVED_KINDS | NEVER_SUPPRESSED_KINDS

PRIMARY_MARK = "<{min_count}"
SECONDARY_MARK = "·"

SUPPRESSION_RULE_DA = (
    "Af hensyn til diskretion vises antal personer (og hændelser knyttet til personer) på 1–{max_small} "
    "ikke; de er markeret med »<{min_count}«. Nul vises. Andele, medianer og overlevelsestal vises ikke, "
    "når de bygger på færre end {min_count} personer. Hvor en skjult celle ellers kunne regnes ud ved at "
    "trække de viste celler fra en vist total, er også den mindste af de øvrige celler skjult "
    "(sekundær diskretionering, markeret med »·« i tabeller). Antal boliger, pladser, beløb og "
    "registreringer skjules ikke."
)
"""Rule text for a report's appendix; fill in with :func:`rule_text_da`."""

Key = tuple[Hashable, Hashable]
Group = tuple[Key, list[Key]]


class SuppressionError(ValueError):
    """The catalogue cannot say how an indicator is to be suppressed."""


def rule_text_da(min_count: int) -> str:
    """The appendix text for the threshold in force (``disclosure.min_count``)."""
    return SUPPRESSION_RULE_DA.format(min_count=min_count, max_small=min_count - 1)


def suppressed_mark(row: Mapping[str, Any], min_count: int) -> str | None:
    """The mark a hidden published cell prints: ``<5`` for a small count, ``·`` for a cell hidden only to protect
    another (secondary) or a figure on a small base; None for a cell that is shown."""
    if not bool(row.get("suppressed", False)):
        return None
    return PRIMARY_MARK.format(min_count=min_count) if row.get("suppression", "primary") == "primary" else SECONDARY_MARK


def _is_small(value: float, min_count: int) -> bool:
    return not math.isnan(value) and 1 <= value < min_count


def protect_groups(groups: Iterable[Group], values: Mapping[Key, float], hidden: set[Key], primary: set[Key]) -> set[Key]:
    """Secondary suppression: extend ``hidden`` until no group gives a hidden cell away.

    A group (a published total and the cells that add up to it) is safe when its
    total is hidden, or none of its cells is hidden, or at least two cells are
    hidden and one of them is not a small (primary) count: the reader then knows
    only the sum of several unknowns, one of which may be large. Otherwise the
    smallest non-zero visible cell is hidden too, or the total if there is none.
    Repeats until nothing changes, because a cell hidden for one group can
    expose another group it belongs to.
    """
    groups = list(groups)
    hidden = set(hidden)
    changed = True
    while changed:
        changed = False
        for total, parts in groups:
            gone = [k for k in parts if k in hidden]
            if total in hidden or not gone or (len(gone) >= 2 and any(k not in primary for k in gone)):
                continue
            candidates = [k for k in parts if k not in hidden and not math.isnan(values[k]) and values[k] > 0]
            hidden.add(min(candidates, key=lambda k: values[k]) if candidates else total)
            changed = True
    return hidden


# ---- the long indicator table --------------------------------------------------------------


def _validate(indicator_ids: Iterable[str], catalogue: Mapping[str, dict]) -> None:
    problems = []
    for ind in sorted(set(indicator_ids)):
        entry = catalogue.get(ind)
        if entry is None:
            problems.append(f"{ind}: not in the catalogue")
            continue
        kind = entry.get("kind")
        if kind not in KINDS:
            problems.append(f"{ind}: kind {kind!r} is not one of {sorted(KINDS)}")
        if kind in DERIVED_KINDS and entry.get("base") not in catalogue:
            problems.append(f"{ind}: kind {kind} needs 'base:' naming a catalogue count, got {entry.get('base')!r}")
        for key in ("numerator", "total_of"):
            if key in entry and entry[key] not in catalogue:
                problems.append(f"{ind}: '{key}: {entry[key]}' is not in the catalogue")
    if problems:
        raise SuppressionError("cannot suppress the indicator table:\n  " + "\n  ".join(problems))


def _indicator_groups(keys: Sequence[tuple[str, str, str]], catalogue: Mapping[str, dict]) -> list[Group]:
    """Groups from ``total:`` (a breakdown that is the sum of the others) and ``total_of:`` (another indicator)."""
    by_cell: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for key in keys:
        by_cell.setdefault(key[:2], []).append(key)
    present = set(keys)
    groups: list[Group] = []
    for (ind, period), cells in by_cell.items():
        entry = catalogue[ind]
        if "total" in entry:
            total = (ind, period, str(entry["total"]))
            if total in present:
                groups.append((total, [k for k in cells if k != total]))
        if "total_of" in entry and (ind, period, "") in present:
            part_of = entry["total_of"]
            own_total = str(catalogue[part_of].get("total", "\0"))
            parts = [k for k in by_cell.get((part_of, period), []) if k[2] != own_total]
            groups.append(((ind, period, ""), parts))
    return groups


def _derived_hidden(key: tuple[str, str, str], entry: Mapping, values: Mapping, hidden: set, min_count: int) -> bool:
    """A share, median or survival figure is hidden when its base is small, unknown or hidden, or its numerator hidden."""
    ind, period, breakdown = key
    base = (entry["base"], period, str(entry.get("base_breakdown", breakdown)))
    if base not in values:
        log.warning("%s %s %r: base %s not in the table; suppressed to be safe", ind, period, breakdown, base)
        return True
    base_value = values[base]
    if base in hidden or math.isnan(base_value) or base_value < min_count:
        return True
    numerator = (entry["numerator"], period, breakdown) if "numerator" in entry else None
    return numerator in hidden


def suppress(indicators: pd.DataFrame, catalogue: Mapping[str, dict], min_count: int) -> pd.DataFrame:
    """The publishable indicator table: adds bool ``suppressed`` and blanks ``value`` where it is true.

    ``indicators`` has columns indicator, period, breakdown, value (one row per
    cell). ``catalogue`` entries need ``kind``; derived kinds need ``base``;
    ``total``, ``total_of``, ``numerator`` and ``base_breakdown`` are optional.
    """
    _validate(indicators["indicator"], catalogue)
    keys = list(zip(indicators["indicator"].astype(str), indicators["period"].astype(str),
                    indicators["breakdown"].fillna("").astype(str)))
    if len(set(keys)) != len(keys):
        dupes = pd.Series(keys)[pd.Series(keys).duplicated()].head(5).tolist()
        raise SuppressionError(f"indicator table has duplicate (indicator, period, breakdown) rows, e.g. {dupes}")
    values = dict(zip(keys, indicators["value"].astype(float)))
    primary = {k for k in keys if catalogue[k[0]]["kind"] in PERSON_COUNT_KINDS and _is_small(values[k], min_count)}
    hidden = protect_groups(_indicator_groups(keys, catalogue), values, primary, primary)
    secondary = len(hidden) - len(primary)
    for key in keys:
        entry = catalogue[key[0]]
        if entry["kind"] in DERIVED_KINDS and _derived_hidden(key, entry, values, hidden, min_count):
            hidden.add(key)
    log.info("suppression (min_count=%d): %d primary, %d secondary, %d derived of %d cells",
             min_count, len(primary), secondary, len(hidden) - len(primary) - secondary, len(keys))
    out = indicators.copy()
    out["suppressed"] = [k in hidden for k in keys]
    out["value"] = out["value"].astype(float).mask(out["suppressed"])
    return out


# ---- published cross-tables ---------------------------------------------------------------


def suppress_table(
    df: pd.DataFrame, count_cols: Sequence[str], min_count: int,
    total_row: Hashable | None = None, total_col: str | None = None,
) -> pd.DataFrame:
    """A cross-table of person counts as text, with primary (``<5``) and secondary (``·``) suppression.

    ``total_row`` is the index label of a row holding the column totals and
    ``total_col`` a count column holding the row totals; each row and column
    that adds up to a shown total is protected against subtraction. Other
    columns (labels) are passed through as text.
    """
    if not df.index.is_unique:
        raise ValueError("suppress_table needs a unique index (the row labels)")
    cols = list(count_cols) + ([total_col] if total_col is not None and total_col not in count_cols else [])
    if total_row is not None and total_row not in df.index:
        raise ValueError(f"total_row {total_row!r} is not an index label of the table")
    counts = df[cols].astype(float)
    values = {(r, c): counts.at[r, c] for r in counts.index for c in cols}
    primary = {k for k, v in values.items() if _is_small(v, min_count)}
    groups: list[Group] = []
    if total_col is not None:
        groups += [((r, total_col), [(r, c) for c in cols if c != total_col]) for r in counts.index]
    if total_row is not None:
        groups += [((total_row, c), [(r, c) for r in counts.index if r != total_row]) for c in cols]
    hidden = protect_groups(groups, values, primary, primary)

    out = df.astype(object).copy()
    for (r, c), v in values.items():
        mark = PRIMARY_MARK.format(min_count=min_count) if (r, c) in primary else SECONDARY_MARK
        out.at[r, c] = mark if (r, c) in hidden else fmt.number(v)
    for c in out.columns.difference(cols):
        out[c] = [fmt.MISSING if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in out[c]]
    return out
