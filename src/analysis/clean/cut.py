"""Cutting the full-history tables to a reference month (data-contract §4).

Facts dated after the end of M are removed and end dates after M become
"not yet happened" *before* anything is chained or counted, so rerunning an old
month on a newer extract reproduces the old figures unless history was corrected.
"""
from __future__ import annotations

import pandas as pd

from analysis.ingest.schemas import TABLES
from analysis.months import month_end, period_label


def cut_to_month(frame: pd.DataFrame, table: str, month: pd.Period) -> pd.DataFrame:
    """Rows of ``table`` as known at the end of ``month``; what an end date implies is cleared with it."""
    spec = TABLES[table]
    last_day = month_end(month)
    out = frame
    if spec.start:
        limit = period_label(month) if spec.column(spec.start).kind == "month" else last_day
        out = frame[frame[spec.start] <= limit]
    out = out.reset_index(drop=True)
    for end, implied in spec.ends.items():
        later = out[end] > last_day
        out.loc[later, end] = pd.NaT
        for col in implied:
            out.loc[later, col] = None
    return out
