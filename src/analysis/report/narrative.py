"""The analysts' status texts with their figures filled in from the published indicator table.

Texts hold placeholders (data contract §2) instead of numbers, so a memo can
never print a figure the indicator table does not hold: ``{indicator}``,
``{indicator.breakdown}``, ``{indicator@period}`` with a period absolute
(``2023-01``, ``2022``) or relative to the reference month (``M``, ``M-1``,
``Y``, ``Y-1``), and ``{periode@M-1}`` for the Danish name of a period. ``{{``
and ``}}`` are literal braces. A placeholder that names nothing in the table is
an error that lists the valid names: a typo must stop the memo, not print a gap.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import yaml

from analysis import cpr
from analysis.failures import RunFailure
from analysis.months import parse_month, period_label
from analysis.base import escape, fmt
from analysis.base.suppression import suppressed_mark

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PLACEHOLDER = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)(?:\.(?P<breakdown>[^@]+))?(?:@(?P<period>[^@]+))?$")
_RELATIVE = re.compile(r"^(?P<base>[MY])(?:(?P<sign>[+-])(?P<n>\d+))?$")
PERIOD_NAME = "periode"
SHARE_UNIT = "andel"
MAX_STATUS_BYTES = 1_000_000  # a month's narrative is a few pages; more is not a narrative


class PlaceholderError(ValueError):
    """A placeholder in a status text that the indicator table cannot fill."""


class NarrativeError(RunFailure, ValueError):
    """A status file the memo must not print: a CPR number, or Markdown outside the allowed subset (bad data)."""

    exit_code = 4


def resolve_period(text: str, month: pd.Period) -> str:
    """``M-1`` → ``2023-01``, ``Y-1`` → ``2022`` (for M = 2023-02); absolute periods pass through checked."""
    text = text.strip()
    rel = _RELATIVE.match(text)
    if rel:
        shift = int(rel["n"] or 0) * (-1 if rel["sign"] == "-" else 1)
        return period_label(month + shift) if rel["base"] == "M" else str(month.year + shift)
    if re.fullmatch(r"\d{4}", text):
        return text
    try:
        return period_label(parse_month(text))
    except ValueError:
        raise PlaceholderError(f"period {text!r}: use YYYY-MM, YYYY, M, M-k, Y or Y-k") from None


def _valid_names(table: pd.DataFrame) -> list[str]:
    pairs = table[["indicator", "breakdown"]].drop_duplicates()
    return sorted(i if b == "" else f"{i}.{b}" for i, b in pairs.itertuples(index=False))


def _value_text(row: pd.Series, min_count: int, unit: str) -> str:
    mark = suppressed_mark(row, min_count)
    if mark is not None:
        return mark
    value = row["value"]
    if pd.isna(value):
        return fmt.MISSING
    if unit == SHARE_UNIT:
        return fmt.pct(value)
    return fmt.number(value, 0 if float(value).is_integer() else 1)


def fill(
    text: str, indicators: pd.DataFrame, month: pd.Period, min_count: int = 5,
    catalogue: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """Replace every placeholder in ``text`` by its Danish-formatted value; suppressed cells read ``<min_count``.

    With the ``catalogue``, shares (unit ``andel``) are written as percentages.
    """
    table = indicators.assign(breakdown=indicators["breakdown"].fillna("").astype(str), period=indicators["period"].astype(str))
    cells = table.set_index(["indicator", "breakdown", "period"]).sort_index()
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if match.group(1) is None:
            problems.append(f"unbalanced brace at position {match.start()} (write {{{{ or }}}} for a literal brace)")
            return token
        spec = _PLACEHOLDER.match(match.group(1).strip())
        if spec is None:
            problems.append(f"{{{match.group(1)}}}: not of the form {{indicator.breakdown@period}}")
            return token
        period = resolve_period(spec["period"] or "M", month)
        if spec["name"] == PERIOD_NAME:
            return fmt.period(period)
        key = (spec["name"], spec["breakdown"] or "", period)
        if key not in cells.index:
            name = key[0] + (f".{key[1]}" if key[1] else "")
            valid = _valid_names(table)
            if name in valid:
                problems.append(f"{{{match.group(1)}}}: {name} has no value for period {period}")
            else:
                close = difflib.get_close_matches(name, valid, n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                problems.append(f"{{{match.group(1)}}}: unknown indicator{hint}")
            return token
        unit = str((catalogue or {}).get(key[0], {}).get("unit", ""))
        return _value_text(cells.loc[key], min_count, unit)

    filled = _TOKEN.sub(replace, text)
    if problems:
        raise PlaceholderError(
            "status text has placeholders the indicator table cannot fill:\n  " + "\n  ".join(problems)
            + f"\nValid names: {PERIOD_NAME}, " + ", ".join(_valid_names(table))
        )
    return filled


def status_file(raw_dir: str | Path, month: pd.Period) -> tuple[Path, pd.Period]:
    """The narrative file the memo of M reads: ``status/<M>.yml``, else the latest earlier one (path, its month)."""
    folder = Path(raw_dir) / "status"
    available = sorted(
        (parse_month(p.stem), p) for p in folder.glob("*.yml") if re.fullmatch(r"\d{4}-\d{2}", p.stem)
    )
    earlier = [(m, p) for m, p in available if m <= month]
    if not earlier:
        raise FileNotFoundError(f"{folder}: no status file for {period_label(month)} or any earlier month")
    used, path = earlier[-1]
    return path, used


def _text_fields(node: yaml.Node, path: str = "") -> list[tuple[str, yaml.ScalarNode]]:
    """Every scalar value of the file with a readable field name (``spor 3: status``, ``spor 1: delleverancer 2``)."""
    if isinstance(node, yaml.ScalarNode):
        return [(path or "(document)", node)]
    fields: list[tuple[str, yaml.ScalarNode]] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            fields += _text_fields(value, f"{path}: {name}" if path else name)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value, start=1):
            nr = next((v.value for k, v in item.value if getattr(k, "value", None) == "nr" and isinstance(v, yaml.ScalarNode)),
                      None) if isinstance(item, yaml.MappingNode) else None
            fields += _text_fields(item, f"spor {nr}" if path == "spor" and nr else f"{path} {i}")
    return fields


def _line_in_file(node: yaml.ScalarNode, offset: int) -> int:
    """1-based file line of line ``offset`` of a scalar's value (exact for plain one-line and ``|`` block text)."""
    first = node.start_mark.line + 1
    return first + 1 + offset if node.style in ("|", ">") else first + offset


def check_status_file(path: Path) -> dict[str, Any]:
    """The parsed status file, or NarrativeError listing every problem as file, field and line.

    The raw text is scanned for CPR numbers first (comments and keys included), then every text field
    for constructs outside the narrative subset. YAML anchors and aliases are refused: they can make a
    small file expand to gigabytes.
    """
    data = Path(path).read_bytes()
    if len(data) > MAX_STATUS_BYTES:
        raise NarrativeError(f"{path}: {len(data):,} bytes; a status file may hold at most {MAX_STATUS_BYTES:,}")
    try:
        raw = data.decode("utf-8")
        events = list(yaml.parse(raw, Loader=yaml.SafeLoader))
        root = yaml.compose(raw, Loader=yaml.SafeLoader)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _unreadable(path, exc) from None
    if any(getattr(e, "anchor", None) for e in events):
        raise NarrativeError(f"{path}: YAML anchors and aliases (&name, *name) are not allowed in a status file")
    fields = _text_fields(root) if root is not None else []
    problems = [(line, "(outside any field)", "a CPR number (in some spelling); remove it")
                for line in cpr.lines_with_cpr(raw)]
    for field, node in fields:
        value = str(node.value)
        problems += [(_line_in_file(node, value.count("\n", 0, m.start())), field, "a CPR number (in some spelling); remove it")
                     for m in cpr.find(value)]
        problems += [(_line_in_file(node, offset), field, what) for offset, what in escape.narrative_problems(value)]
    if problems:
        named = {line: field for field, node in fields for line in range(node.start_mark.line + 1, node.end_mark.line + 2)}
        listed = sorted({(line, named.get(line, field) if field.startswith("(") else field, what)
                         for line, field, what in problems})
        raise NarrativeError(f"{path}: the status text cannot be published as written:\n  "
                             + "\n  ".join(f"line {line}, field '{field}': {what}" for line, field, what in listed))
    try:
        return yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:  # e.g. a tag such as !!python/object, which only construction refuses
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: Exception) -> NarrativeError:
    """The file is not plain YAML in UTF-8: its line, never its text (a parser message may quote it)."""
    where = getattr(exc, "problem_mark", None)
    line = f" line {where.line + 1}" if where is not None else ""
    return NarrativeError(f"{path}:{line} not readable UTF-8 YAML ({type(exc).__name__})")


def load_status(raw_dir: str | Path, month: pd.Period) -> tuple[dict[str, Any], pd.Period, bool]:
    """The checked narrative for M from ``status/<YYYY-MM>.yml``, else the latest earlier file: (status, month used, fell back)."""
    path, used = status_file(raw_dir, month)
    status = check_status_file(path)
    tracks = status.get("spor", []) if isinstance(status, dict) else None
    if not isinstance(tracks, list) or not all(isinstance(t, dict) and isinstance(t.get("nr"), int) for t in tracks):
        raise NarrativeError(f"{path}: expected a mapping with 'spor': a list of tracks, each with a whole number 'nr'")
    return status, used, used != month


def fallback_note(used: pd.Period, month: pd.Period) -> str:
    """The memo's notice that the narrative is older than the reference month (empty when it is not)."""
    if used == month:
        return ""
    return (f"**Bemærk:** Der foreligger ingen statustekst for {fmt.period(month)}. Teksterne nedenfor er fra "
            f"{fmt.period(used)}; tallene i dem er opdateret til {fmt.period(month)}.")


def track_markdown(
    track: Mapping[str, Any], indicators: pd.DataFrame, month: pd.Period, min_count: int = 5,
    catalogue: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """One track of the status file as Markdown: heading, its delleverancer on one line and the filled status text.

    One line, not a list: the printed memo has a page budget, and the sub-deliverables are labels, not reading.
    """
    parts = "; ".join(escape.inline(d) for d in track.get("delleverancer", []))
    status = escape.narrative(fill(str(track.get("status", "")), indicators, month, min_count, catalogue))
    title = escape.inline(track["titel"])
    return f"## Spor {int(track['nr'])}: {title}\n\n*Delleverancer: {parts}.*\n\n{status}\n"


@dataclass(frozen=True)
class StatusTexts:
    """A month's status file bound to the indicator table it is filled from, so the memo asks only for a track."""

    status: Mapping[str, Any]
    indicators: pd.DataFrame
    month: pd.Period
    min_count: int = 5
    catalogue: Mapping[str, Mapping[str, Any]] | None = None

    def markdown(self, nr: int) -> str:
        """Track ``nr`` as Markdown; an error naming the file's tracks when it is missing."""
        tracks = {int(t["nr"]): t for t in self.status.get("spor", [])}
        if nr not in tracks:
            raise KeyError(f"status file has no spor {nr} (has {sorted(tracks)})")
        return track_markdown(tracks[nr], self.indicators, self.month, self.min_count, self.catalogue)
