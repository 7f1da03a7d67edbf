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
    """Rows of ``table`` as known at the end of ``month``; what an end date implies is cleared with it.

    A frame the cut leaves as it is (nothing dated after M, index 0…n−1) is returned itself, not a copy (so do not
    modify the result in place): the extract is only days past M, so most tables are, and ``build_month`` then
    knows it holds the ingest table.
    """
    spec = TABLES[table]
    last_day = month_end(month)
    out = frame
    if spec.start:
        limit = period_label(month) if spec.column(spec.start).kind == "month" else last_day
        keep = frame[spec.start] <= limit
        if not keep.all():
            out = frame[keep]
    default_index = isinstance(frame.index, pd.RangeIndex) and frame.index.equals(pd.RangeIndex(len(frame)))
    if out is frame and default_index and not any((frame[end] > last_day).any() for end in spec.ends):
        return frame
    out = out.reset_index(drop=True)
    for end, implied in spec.ends.items():
        later = out[end] > last_day
        out.loc[later, end] = pd.NaT
        for col in implied:
            out.loc[later, col] = None
    return out
