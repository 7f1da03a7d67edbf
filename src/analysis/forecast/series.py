"""The same simulation engine on a plain (date, count) series.

Real open data (NYC's daily census, Toronto's monthly flows) has no episodes,
so the model collapses to one compartment: stock(t) = (1-h)·stock(t-1) + λ(t).
With flows, h and λ are measured; with counts only, they come from a
regression of the stock on its own lag. The backtest then runs through the
same harness as the local model.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.forecast.backtest import default_origins, littles_law, rolling_backtest, seasonal_naive
from analysis.forecast.model import _seasonal_trend
from analysis.forecast.simulate import METHODS, Rates, State, simulate


def monthly(series: pd.Series) -> pd.Series:
    """Monthly mean of a daily series (or the monthly series itself), indexed by month start."""
    s = series.sort_index()
    out = s.groupby(s.index.to_period("M")).mean()
    out.index = out.index.to_timestamp()
    return out


def one_compartment(level: float, trend: float, seasonal: np.ndarray, exit_rate: float, damping: float = 1.0) -> Rates:
    """Rates of a single shelter compartment with geometric stays and no return loops."""
    n_methods = len(METHODS)
    zeros = np.zeros(n_methods)
    return Rates(
        entry_exit=np.zeros(1), exit_hazard=np.array([[exit_rate]]), dest=np.array([[0.0, 0.0, 0.0, 1.0]]),
        quick_return=np.zeros(1), return_hazard=np.zeros((1, 1)), return_mix=np.ones(1), s107_return=0.0, s107_mix=np.ones(1), new_level=level, new_trend=trend, seasonal=seasonal,
        new_mix=np.ones(1), housing_mix=np.ones(1), in_out_nights=np.ones(1), method_share=np.eye(n_methods)[-1],
        tenancy_share=0.0, support_end=zeros, housed_return=zeros, housed_leave=zeros, s107_exit=0.0, supply=np.inf,
        trend_damping=damping,
    )


def fit_series(y: pd.Series, inflow: pd.Series | None = None, outflow: pd.Series | None = None,
               window: int = 36, trend_cap: float = 0.1, trend_damping: float = 1.0) -> Rates:
    """Exit rate and arrivals from the last ``window`` months of a monthly series."""
    recent = y.iloc[-window:]
    if inflow is not None and outflow is not None:
        prev = y.shift(1)
        h = float(outflow.iloc[-12:].sum() / prev.iloc[-12:].sum())
        arrivals = inflow.iloc[-window:]
    else:
        lagged, current = recent.iloc[:-1].to_numpy(), recent.iloc[1:].to_numpy()
        phi = np.polyfit(lagged, current, 1)[0] if len(lagged) > 2 else 1.0
        h = float(np.clip(1 - phi, 0.01, 1.0))
        arrivals = (recent - (1 - h) * recent.shift(1)).iloc[1:].clip(lower=1e-6)
    level, trend, seasonal = _seasonal_trend(arrivals.astype(float), trend_cap)
    return one_compartment(level, trend, seasonal, float(np.clip(h, 0.001, 1.0)), trend_damping)


def forecast_series(y: pd.Series, horizon: int, inflow: pd.Series | None = None, outflow: pd.Series | None = None,
                    paths: int = 200, seed: int = 1, trend_cap: float = 0.1, trend_damping: float = 1.0) -> np.ndarray:
    """Median simulated path for the ``horizon`` months after the series ends."""
    rates = fit_series(y, inflow, outflow, trend_cap=trend_cap, trend_damping=trend_damping)
    months = pd.period_range(pd.Period(y.index[-1], freq="M") + 1, periods=horizon, freq="M")
    state = State(shelter=np.array([[round(float(y.iloc[-1]))]]), elsewhere=np.zeros((1, 1)),
                  s107=np.zeros(7), housed=np.zeros(len(METHODS)))
    sim = simulate(rates, state, months, np.full(horizon, np.inf), paths, seed)
    return np.median(sim.series["shelter_stock"], axis=0)


def series_backtest(y: pd.Series, horizon: int = 12, inflow: pd.Series | None = None, outflow: pd.Series | None = None,
                    origins: int = 36, trend_cap: float = 0.1, trend_damping: float = 1.0) -> pd.DataFrame:
    """Rolling-origin backtest of the one-compartment model vs seasonal naive and Little's law
    (``trend_cap``/``trend_damping`` as ``forecast.trend_cap``/``forecast.trend_damping``; cap 0 = no trend)."""
    def model(origin: int, h: int) -> np.ndarray:
        cut = slice(0, origin + 1)
        return forecast_series(y.iloc[cut], h,
                               None if inflow is None else inflow.iloc[cut],
                               None if outflow is None else outflow.iloc[cut], trend_cap=trend_cap,
                               trend_damping=trend_damping)

    forecasters = {"model": model, "seasonal_naive": seasonal_naive(y)}
    if inflow is not None and outflow is not None:
        exit_rate = (outflow / y.shift(1)).rolling(12, min_periods=1).mean()
        forecasters["littles_law"] = littles_law(y, inflow, (1 / exit_rate).reset_index(drop=True).bfill())
    return rolling_backtest(y, forecasters, horizon, default_origins(len(y), horizon, origins))
