"""Data quality in the indicator table: the row reconciliation of every extract (data contract §1)."""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from analysis.indicators.common import frame
from analysis.months import period_label

ROW_COUNTS = ("rows_read", "rows_clean", "rows_quarantined")


def build(quality: Mapping[str, Any], month: pd.Period) -> pd.DataFrame:
    """``rows_*`` per extract from ``quality.json``; the counts cover the whole extract, so they carry period M only."""
    return frame((name, period_label(month), extract, float(q[name]))
                 for extract, q in sorted(quality["extracts"].items()) for name in ROW_COUNTS)
