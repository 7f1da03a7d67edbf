"""Reference-month arithmetic shared by every step.

Months are ``pandas.Period`` objects with monthly frequency; periods in the
indicator table are strings (``YYYY-MM`` or ``YYYY``). Keeping the conversions
in one place avoids off-by-one errors at month ends, which every definition in
the data contract depends on.
"""
from __future__ import annotations

import re
from datetime import date

import pandas as pd

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def parse_month(text: str | pd.Period) -> pd.Period:
    """Parse ``YYYY-MM`` into a monthly Period; anything else is an error naming the value."""
    if isinstance(text, pd.Period):
        return text.asfreq("M")
    if not isinstance(text, str) or not _MONTH.match(text.strip()):
        raise ValueError(f"reference month must be YYYY-MM, got {text!r}")
    return pd.Period(text.strip(), freq="M")


def month_start(month: pd.Period) -> pd.Timestamp:
    return month.start_time.normalize()


def month_end(month: pd.Period) -> pd.Timestamp:
    """The last day of the month (a date at midnight), the day "end of M" refers to."""
    return month.end_time.normalize()


def day_after(month: pd.Period) -> pd.Timestamp:
    """First day after M: open stays are censored here (data contract §4)."""
    return (month + 1).start_time.normalize()


def last_complete_month(extract_date: date | pd.Timestamp) -> pd.Period:
    """Default reference month: the last complete calendar month before the extract date."""
    ts = pd.Timestamp(extract_date)
    return pd.Period(ts, freq="M") - 1


def months_back(month: pd.Period, n: int) -> list[pd.Period]:
    """The n months up to and including ``month``, oldest first."""
    return [month - k for k in range(n - 1, -1, -1)]


def period_label(month: pd.Period) -> str:
    return month.strftime("%Y-%m")
