"""The stock-and-flow model on a plain monthly series (real open data has no episodes).

One compartment: stock(t) = (1 − h)·stock(t−1) + arrivals(t) + residual. With flows,
the exit rate h is outflow over last month's stock and arrivals are the inflow; the
part of the stock change the flows do not explain (stock(t) − stock(t−1) − (in − out))
is reconciled as its own term rather than taken at face value. With counts only, h is
1 / ``forecast.series_mean_stay_months`` (a stated source, not a regression of the
stock on its lag, which wandered to 100-month stays on NYC) and arrivals are what the
stock change implies. Rates hold where they are at the origin: no trend after it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.forecast.model import _seasonal_trend

WINDOW = 12  # months of rates and level (docs/forecast.md, combined baseline rule 2)
SEASON_WINDOW = 36


def monthly(series: pd.Series) -> pd.Series:
    """Monthly mean of a daily series (or the monthly series itself), indexed by month start."""
    s = series.sort_index()
    out = s.groupby(s.index.to_period("M")).mean()
    out.index = out.index.to_timestamp()
    return out


@dataclass(frozen=True)
class FlowFit:
    """One compartment's rates at an origin."""

    exit_rate: float  # per month
    level: float  # arrivals per month, seasonally adjusted
    seasonal: np.ndarray  # (12,) calendar-month factors of arrivals, January first
    residual: float  # mean unrecorded net flow per month (0 with counts only: it is in the arrivals)
    next_month: int  # calendar month (1–12) after the origin


def reconciliation_residual(y: pd.Series, inflow: pd.Series, outflow: pd.Series) -> pd.Series:
    """stock(t) − stock(t−1) − (inflow(t) − outflow(t)): what the recorded flows leave unexplained."""
    return (y - y.shift(1) - (inflow - outflow)).iloc[1:]


def at_origin(values: pd.Series) -> float:
    """The value at the last month of the straight line fitted to ``values`` (one per month).

    A window's mean describes the month in its middle, half a year before the origin when the
    window is a year; the line's end is the rate now. The forecast holds it there: the line's
    slope is not continued (no trend in the baseline, docs/forecast.md rule 2).
    """
    v = np.asarray(values, dtype=float)
    t = np.arange(len(v)) - (len(v) - 1)  # the last month at 0: the intercept is the value there
    return float(np.polyfit(t, v, 1)[1]) if len(v) > 1 else float(v[-1])


def fit_flows(y: pd.Series, mean_stay_months: float, inflow: pd.Series | None = None,
              outflow: pd.Series | None = None) -> FlowFit:
    """Rates at the origin from the last ``WINDOW`` months (``at_origin``; seasonal factors from up to
    ``SEASON_WINDOW``); the reconciliation residual is the window's mean, a bias rather than a rate."""
    if len(y) < WINDOW + 1:
        raise ValueError(f"the stock-and-flow model needs at least {WINDOW + 1} months, got {len(y)}")
    prev = y.shift(1)
    if inflow is not None and outflow is not None:
        h = at_origin((outflow / prev).iloc[-WINDOW:])
        arrivals = inflow
        residual = float(reconciliation_residual(y, inflow, outflow).iloc[-WINDOW:].mean())
    else:
        h = 1 / float(mean_stay_months)
        arrivals = (y - (1 - h) * prev).iloc[1:]
        residual = 0.0
    recent = arrivals.iloc[-SEASON_WINDOW:].astype(float)
    _, _, seasonal = _seasonal_trend(recent, 0.0)
    level = max(at_origin((recent / seasonal[recent.index.month - 1]).iloc[-WINDOW:]), 0.0)
    return FlowFit(float(np.clip(h, 1e-3, 1.0)), level, seasonal, residual, int(y.index[-1].month % 12 + 1))


def project(fit: FlowFit, stock: float, h: int) -> np.ndarray:
    """Expected stock for the ``h`` months after the origin, starting from ``stock``."""
    out = np.empty(h)
    for k in range(h):
        stock = (1 - fit.exit_rate) * stock + fit.level * fit.seasonal[(fit.next_month - 1 + k) % 12] + fit.residual
        out[k] = stock
    return out


def flow_forecaster(y: pd.Series, mean_stay_months: float, inflow: pd.Series | None = None,
                    outflow: pd.Series | None = None):
    """``(origin, h) -> expected stock`` of the one-compartment model fitted on data up to ``origin``."""
    def forecast(origin: int, h: int) -> np.ndarray:
        cut = slice(0, origin + 1)
        fit = fit_flows(y.iloc[cut], mean_stay_months, None if inflow is None else inflow.iloc[cut],
                        None if outflow is None else outflow.iloc[cut])
        return project(fit, float(y.iloc[origin]), h)
    return forecast
