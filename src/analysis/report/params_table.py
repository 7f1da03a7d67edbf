"""The parameters as the Danish reports print them (status memo appendix, forecast assumptions).

One table for both reports: Danish label, the value in Danish notation, Danish
unit, a remark ("Antagelse" for a figure without a public source, "ændret for
denne kørsel" for an overridden value) and the Danish source. The English
``unit`` and ``source`` of the parameter file are not shown here.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from analysis.params import Param, Params
from analysis.base import fmt

ASSUMPTION = "Antagelse"
OVERRIDDEN = "ændret for denne kørsel"
COLUMNS = ("Parameter", "Værdi", "Enhed", "Bemærkning", "Kilde")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_VERBATIM_UNITS = {"integer", "code", "text"}
"""Units whose numbers are identifiers, not amounts: no thousands separator (seed 20230201)."""
_KEYS_DA = {"from": "fra", "days": "dage"}


def _decimals(x: float) -> int:
    exponent = Decimal(repr(float(x))).normalize().as_tuple().exponent
    return min(max(-int(exponent), 0), 6)


def _scalar(x: Any, verbatim: bool = False) -> str:
    if x is None:
        return fmt.MISSING
    if isinstance(x, bool):
        return "ja" if x else "nej"
    if isinstance(x, (int, float)):
        if verbatim:
            return str(x)
        return fmt.number(x, 0 if isinstance(x, int) else _decimals(x))
    if isinstance(x, (dt.date, pd.Timestamp)):
        return fmt.date(x)
    text = str(x)
    if _DATE.match(text):
        return fmt.date(text)
    if _MONTH.match(text):
        return fmt.period(text)
    return text


def value_text(value: Any, unit: str = "") -> str:
    """A parameter value as Danish text.

    Numbers with Danish separators (``11944`` → ``"11.944"``, ``0.95`` → ``"0,95"``),
    dates as ``"1. september 2022"``, months as ``"december 2030"``, mappings as
    ``"2023: 11.944; 2024: 12.326"``, lists as ``"6; 12; 24"`` (``;`` because ``,`` is
    the decimal mark), ``{from: date, days: n}`` items as ``"fra 1. oktober 2023: 120"``.
    A nested mapping with a ``label_da`` (a scenario) is shown under that label.
    """
    verbatim = unit in _VERBATIM_UNITS
    if isinstance(value, Mapping):
        if "from" in value:
            rest = [_inner(v, verbatim) for k, v in value.items() if k != "from"]
            return f"fra {_scalar(value['from'])}: {', '.join(rest)}"
        parts = []
        for key, item in value.items():
            if isinstance(item, Mapping):
                name = str(item.get("label_da", key))
                inner = [f"{_KEYS_DA.get(str(k), k)} = {_inner(v, verbatim)}" for k, v in item.items() if k != "label_da"]
                parts.append(f"{name}: {', '.join(inner)}" if inner else name)
            else:
                parts.append(f"{key}: {_inner(item, verbatim)}")
        return "; ".join(parts)
    if isinstance(value, (list, tuple)):
        return "; ".join(_inner(v, verbatim) for v in value)
    return _scalar(value, verbatim)


def _inner(value: Any, verbatim: bool) -> str:
    if isinstance(value, (Mapping, list, tuple)):
        return value_text(value, "integer" if verbatim else "")
    return _scalar(value, verbatim)


def remark(p: Param, overridden: Iterable[str]) -> str:
    """``"Antagelse"`` and/or ``"ændret for denne kørsel"`` (empty when neither)."""
    marks = [ASSUMPTION] if p.assumption else []
    if p.key in overridden:
        marks.append(OVERRIDDEN)
    return "; ".join(marks)


def params_table(params: Params, include: Callable[[Param], bool] | None = None) -> pd.DataFrame:
    """The parameters (all, or those ``include`` accepts) in file order, in Danish, one row each."""
    rows = [{"Parameter": p.label_da, "Værdi": value_text(p.value, p.unit), "Enhed": p.unit_da,
             "Bemærkning": remark(p, params.overridden), "Kilde": p.source_da}
            for p in params.entries() if include is None or include(p)]
    return pd.DataFrame(rows, columns=list(COLUMNS))
