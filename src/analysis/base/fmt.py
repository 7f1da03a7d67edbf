"""Danish number, money, percentage and date formatting.

Reports are Danish (`1.234,5`, `februar 2023`) whatever locale the build
machine has, so nothing here touches ``locale``: separators and month names are
spelled out. Rounding is half-up on the decimal value a reader sees (2,5 → 3),
not Python's banker's rounding, so a figure and its rounded text never disagree
with a hand calculation.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # matplotlib only where a chart is drawn: the pipeline's other steps format text alone
    from matplotlib.ticker import FuncFormatter

MISSING = "–"
"""Shown for an unknown value (en dash), also in tables."""

MONTHS_DA = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)


def _is_missing(x: Any) -> bool:
    if x is None or x is pd.NaT or x is pd.NA:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def rounded(x: float, decimals: int) -> Decimal:
    """Half-up rounding of the shortest decimal representation of ``x``."""
    value = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return value if value != 0 else abs(value)  # never "-0"


def number(x: Any, decimals: int = 0) -> str:
    """``1234.5`` → ``"1.234,5"`` (``decimals=1``); missing → ``"–"``."""
    if _is_missing(x):
        return MISSING
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "-∞"
    english = f"{rounded(x, decimals):,.{decimals}f}"
    return english.replace(",", "\0").replace(".", ",").replace("\0", ".")


def kr(x: Any, decimals: int = 0) -> str:
    """``1234`` → ``"1.234 kr."``."""
    return MISSING if _is_missing(x) else f"{number(x, decimals)} kr."


def pct(share: Any, decimals: int = 0) -> str:
    """A share (0–1) as a Danish percentage: ``0.453`` → ``"45 %"`` / ``"45,3 %"``."""
    return MISSING if _is_missing(share) else f"{number(float(share) * 100, decimals)} %"


COUNT_WORDS_DA = dict(enumerate(("to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti", "elleve", "tolv"),
                                 start=2))


def count_word(n: int) -> str:
    """A plural count in running text: words from two to twelve, digits otherwise (Danish style; "en"/"et"
    depends on the noun), so a sentence never says "fire scenarier" when the parameter file defines five."""
    return COUNT_WORDS_DA.get(n, number(n))


def month_name(m: int) -> str:
    """``2`` → ``"februar"``."""
    if not 1 <= int(m) <= 12:
        raise ValueError(f"month must be 1–12, got {m!r}")
    return MONTHS_DA[int(m) - 1]


def period(p: Any) -> str:
    """Indicator period as text: ``"2023-02"`` → ``"februar 2023"``, ``"2023"`` → ``"2023"``."""
    if _is_missing(p):
        return MISSING
    if isinstance(p, pd.Period):
        if p.freqstr.startswith(("Y", "A")):
            return str(p.year)
        p = p.asfreq("M")
        return f"{month_name(p.month)} {p.year}"
    text = str(p).strip()
    if len(text) == 4 and text.isdigit():
        return text
    parsed = pd.Period(text, freq="M")
    return f"{month_name(parsed.month)} {parsed.year}"


def date(d: Any) -> str:
    """``2023-03-01`` → ``"1. marts 2023"``; missing → ``"–"``."""
    if _is_missing(d):
        return MISSING
    ts = pd.Timestamp(d)
    return f"{ts.day}. {month_name(ts.month)} {ts.year}"


def time_of_day(t: dt.datetime | pd.Timestamp) -> str:
    """``14:05`` → ``"kl. 14.05"`` (Danish clock notation)."""
    ts = pd.Timestamp(t)
    return f"kl. {ts.hour:02d}.{ts.minute:02d}"


def change(now: Any, before: Any, decimals: int = 0) -> str:
    """Change since a previous value: ``"▲ 12"``, ``"▼ 3"``, ``"uændret"``, or ``"–"`` if unknown.

    A change that rounds to zero at the shown precision is "uændret", so the
    arrow never contradicts the printed number.
    """
    if _is_missing(now) or _is_missing(before):
        return MISSING
    diff = rounded(float(now) - float(before), decimals)
    if diff == 0:
        return "uændret"
    return f"{'▲' if diff > 0 else '▼'} {number(abs(diff), decimals)}"


def tick_formatter(decimals: int = 0, percent: bool = False) -> FuncFormatter:
    """Matplotlib tick formatter with Danish separators (``percent``: axis values are shares)."""
    from matplotlib.ticker import FuncFormatter

    if percent:
        return FuncFormatter(lambda v, _pos: pct(v, decimals))
    return FuncFormatter(lambda v, _pos: number(v, decimals))
