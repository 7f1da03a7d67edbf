"""Quarantined rows: kept for the analysts, with rule, column and source row, but without the CPR.

A quarantined row is still person data, so its CPR is replaced by the
person_id (or ``<malformed>`` where the CPR itself was the problem) before the
row is serialised; the other contract columns are kept as delivered, except
that anything shaped like a CPR number in them is masked. Extra columns are
not kept (nobody has checked what they hold).
"""
from __future__ import annotations

import pandas as pd

from analysis.ingest.pseudonym import MALFORMED, scrub_cpr
from analysis.ingest.rules import Checked
from analysis.ingest.schemas import Table

COLUMNS = ["extract", "row_number", "rule", "column", "detail", "row_json"]


def quarantine_rows(extract: str, raw_frame: pd.DataFrame, checked: Checked, spec: Table) -> pd.DataFrame:
    """One record per quarantined row, 1-based data-row numbers as in the source file."""
    hit = ~checked.flags.ok
    rows = raw_frame.loc[hit, list(spec.raw_columns)].astype(str)
    cpr_column = next((c.raw for c in spec.columns if c.kind == "cpr"), None)
    if cpr_column and checked.person_id is not None:
        rows[cpr_column] = checked.person_id[hit].fillna(MALFORMED).to_numpy()
    text = rows.to_json(orient="records", lines=True, force_ascii=False) if len(rows) else ""
    return pd.DataFrame({
        "extract": extract,
        "row_number": (rows.index.to_numpy() + 1).astype("int64"),
        "rule": checked.flags.rule[hit].astype(str),
        "column": checked.flags.column[hit].astype(str),
        "detail": scrub_cpr(pd.Series(checked.flags.detail[hit], dtype=object).astype(str)).to_numpy(),
        "row_json": scrub_cpr(pd.Series(text.split("\n")[: len(rows)], dtype=object)).to_numpy(),
    }, columns=COLUMNS)
