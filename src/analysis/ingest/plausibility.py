"""Plausibility gates between "every row is valid" and "publish".

Rows can each pass their rules while the extract as a whole is wrong: a
header-only file, a file whose rows are mostly quarantined, a key figure that
jumps against the previous published month. Such a month stops the run (exit
4, naming the extract or the figure) unless the analysts acknowledge the
finding for that month in ``godkendelser.yml`` beside the extract, so a real
change can still be published on purpose, with its reason on record::

    2023-02:
      bostoette.quarantine_share: "Leverandøren har omlagt forløbsnumrene; rettes i marts"
      key_figure.support_active: "Ny opgørelse af aktive forløb fra 1. februar"
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import pandas as pd
import yaml

from analysis.ingest.errors import DeliveryError, PlausibilityError
from analysis.ingest.quality import ExtractQuality

log = logging.getLogger(__name__)

ACK_FILE = "godkendelser.yml"


@dataclass
class Acknowledgements:
    """The analysts' acknowledged findings: month → {check id: reason}."""

    path: Path
    by_month: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, raw_dir: Path) -> "Acknowledgements":
        """The file is optional; one that is there but unreadable is an error naming it (never ignored)."""
        path = raw_dir / ACK_FILE
        if not path.exists():
            return cls(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            raise DeliveryError(f"{path}: not readable as YAML (expected '<YYYY-MM>: {{<check>: <reason>}}')") from None
        data = data or {}
        ok = isinstance(data, dict) and all(isinstance(v, dict) and all(isinstance(r, str) and r.strip() for r in v.values())
                                            for v in data.values())
        if not ok:
            raise DeliveryError(f"{path}: expected '<YYYY-MM>: {{<check>: <reason>}}' with a reason for each check")
        return cls(path, {str(m): {str(k): str(r) for k, r in v.items()} for m, v in data.items()})

    def reason(self, month: str, check: str) -> str | None:
        return self.by_month.get(month, {}).get(check)


@dataclass(frozen=True)
class Finding:
    check: str  # the id the analysts acknowledge, e.g. "bostoette.quarantine_share"
    message: str  # names the file or figure; never a cell value


def gate(findings: list[Finding], acks: Acknowledgements, month: str) -> dict[str, str]:
    """Raise for findings not acknowledged for ``month``; return the acknowledged ones (check → reason)."""
    acknowledged = {f.check: r for f in findings if (r := acks.reason(month, f.check))}
    for check, reason in acknowledged.items():
        log.warning("%s acknowledged for %s in %s: %s", check, month, acks.path.name, reason)
    open_ = [f for f in findings if f.check not in acknowledged]
    if open_:
        raise PlausibilityError(
            "; ".join(f.message for f in open_)
            + f". If this is real, acknowledge it for {month} in {acks.path} with a reason: "
            + ", ".join(f"'{month}: {{{f.check}: <reason>}}'" for f in open_))
    return acknowledged


def extract_findings(extracts: Mapping[str, ExtractQuality], max_quarantined_share: float,
                     changes: Mapping[str, Mapping[str, object]] | None = None,
                     max_removed_share: float = 1.0) -> list[Finding]:
    """An extract with no data rows, with more than the allowed share of its rows quarantined, or (``changes``
    against the previous extract) missing more than the allowed share of the previous extract's rows: extracts
    are full history, so rows vanish only by correction, and many vanishing is a file cut short or a lost export.
    """
    findings = []
    for q in extracts.values():
        change = (changes or {}).get(q.table)
        if change and int(change["rows_removed"]) > max_removed_share * int(change["rows_before"]):
            removed, before = int(change["rows_removed"]), int(change["rows_before"])
            findings.append(Finding(
                f"{q.extract}.rows_removed",
                f"{q.file}: {removed:,} of the {before:,} rows of the previous extract ({change['compared_with']}) "
                f"are gone ({removed / before:.1%}), above {max_removed_share:.0%} (parameter ingest.max_removed_share)"))
        if q.rows_read == 0:
            findings.append(Finding(f"{q.extract}.zero_rows", f"{q.file}: no data rows (only a header)"))
        elif q.rows_quarantined / q.rows_read > max_quarantined_share:
            top = max(q.quarantined_by_rule, key=lambda r: q.quarantined_by_rule[r])
            findings.append(Finding(
                f"{q.extract}.quarantine_share",
                f"{q.file}: {q.rows_quarantined:,} of {q.rows_read:,} rows ({q.rows_quarantined / q.rows_read:.1%}) "
                f"quarantined, above {max_quarantined_share:.0%} (parameter ingest.max_quarantined_share); "
                f"most under rule {top}"))
    return findings


def check_extracts(extracts: Mapping[str, ExtractQuality], changes: Mapping[str, Mapping[str, object]],
                   params: Mapping[str, object], acks: Acknowledgements, month: str) -> dict[str, str]:
    """The extract gates of ingest (``month``: the extract's default reference month)."""
    return gate(extract_findings(extracts, float(params["ingest.max_quarantined_share"]), changes,
                                 float(params["ingest.max_removed_share"])), acks, month)


def key_figure_findings(current: pd.DataFrame, month: str, previous: pd.DataFrame, previous_month: str,
                        params: Mapping[str, object]) -> list[Finding]:
    """Key figures of ``month`` that moved more than the allowed factor against the previous published month.

    Both tables are published indicator tables (suppressed cells are blank and not compared); a pair where
    both values are below ``plausibility.min_base`` is small-number noise and not compared either.
    """
    keys = list(params["plausibility.key_figures"])
    factor, base = float(params["plausibility.max_change_factor"]), float(params["plausibility.min_base"])

    def figures(table: pd.DataFrame, period: str) -> pd.Series:
        rows = table[table["indicator"].isin(keys) & (table["period"] == period)]
        return rows.set_index(["indicator", "breakdown"])["value"].astype(float)

    pairs = pd.concat({"now": figures(current, month), "before": figures(previous, previous_month)}, axis=1).dropna()
    findings: dict[str, Finding] = {}
    for (indicator, breakdown), now, before in pairs[["now", "before"]].itertuples(name=None):
        if max(abs(now), abs(before)) < base:
            continue
        low, high = sorted((abs(now), abs(before)))
        ratio = math.inf if low == 0 else high / low
        if ratio > factor and indicator not in findings:
            label = f"{indicator} ({breakdown})" if breakdown else indicator
            findings[indicator] = Finding(
                f"key_figure.{indicator}",
                f"key figure {label}: {before:,.0f} in {previous_month} (published), {now:,.0f} in {month}, "
                f"more than a factor {factor:g} (parameter plausibility.max_change_factor)")
    return list(findings.values())
