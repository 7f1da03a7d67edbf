"""Spor 3: floating support (§85/§99) by method and provider: open at month end, started and ended in the month."""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from analysis.indicators.common import counts, history, month_keys, stock
from analysis.ingest.schemas import OWNERSHIP, SUPPORT_METHODS
from analysis.months import period_label
from analysis.params import Params


def build(tables: Mapping[str, pd.DataFrame], month: pd.Period, params: Params) -> pd.DataFrame:
    support = tables["support"]
    months = history(month, params)
    periods = [period_label(m) for m in months]
    ended = support[support["end"].notna()]
    return pd.concat([
        stock("support_active", support["start"], support["end"], months, support["method"], SUPPORT_METHODS),
        stock("support_active_by_provider", support["start"], support["end"], months, support["provider"], OWNERSHIP),
        counts("support_started", month_keys(support["start"]), periods, support["method"], SUPPORT_METHODS, total=True),
        counts("support_ended", month_keys(ended["end"]), periods, ended["method"], SUPPORT_METHODS, total=True),
    ], ignore_index=True)
