"""Rolling-origin backtest: would the model have predicted the past?

At each origin the forecaster sees only the history up to that month and
forecasts the next ``horizon`` months; errors are scaled by the in-sample
seasonal-naive error (MASE, Hyndman & Koehler 2006), so MASE < 1 means better
than "same month last year". The standard reference forecasts (``methods``) and a
static Little's-law level (arrivals × mean stay) run through the same harness;
``accuracy`` turns the errors into the published figures.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from analysis.forecast.combined import CombinedForecaster
    from analysis.forecast.model import History

Forecaster = Callable[[int, int], np.ndarray]  # (origin position, horizon) -> forecasts for origin+1..origin+h


def littles_law(y: pd.Series, inflow: pd.Series, mean_stay_months: pd.Series) -> Forecaster:
    """Static level L = λ·W from the 12 months up to the origin (NAEH shelter calculator)."""
    lam = inflow.to_numpy(dtype=float)
    stay = mean_stay_months.to_numpy(dtype=float)
    return lambda origin, h: np.full(h, lam[origin - 11:origin + 1].mean() * stay[origin])


def mase_scale(y: np.ndarray, season: int = 12) -> float:
    """In-sample mean absolute seasonal-naive error of the training history."""
    diffs = np.abs(y[season:] - y[:-season])
    return float(diffs.mean()) if len(diffs) and diffs.mean() > 0 else np.nan


def rolling_backtest(
    y: pd.Series, forecasters: dict[str, Forecaster], horizon: int, origins: list[int] | range
) -> pd.DataFrame:
    """Scaled errors of each forecaster at each origin and horizon.

    A forecaster returns the point forecasts, or an array (5, h) of the point and the
    80 % and 95 % bounds (``methods.BOUNDS``). Rows: method, origin (period label), h,
    forecast, actual, error, scaled_error, lo80, hi80, lo95, hi95 (NaN without bounds).
    """
    from analysis.forecast.methods import BOUNDS  # methods imports this module

    values = y.to_numpy(dtype=float)
    frames = []
    for origin in origins:
        scale = mase_scale(values[: origin + 1])
        actual = values[origin + 1: origin + 1 + horizon]
        k = len(actual)
        for name, forecaster in forecasters.items():
            fc = np.atleast_2d(np.asarray(forecaster(origin, horizon), dtype=float))[:, :k]
            bounds = fc[1:5] if len(fc) == 5 else np.full((4, k), np.nan)
            frames.append(pd.DataFrame({
                "method": name, "origin": str(y.index[origin]), "h": np.arange(1, k + 1), "forecast": fc[0],
                "actual": actual, "error": fc[0] - actual, "scaled_error": np.abs(fc[0] - actual) / scale,
                **dict(zip(BOUNDS[1:], bounds)),
            }))
    return pd.concat(frames, ignore_index=True)


def default_origins(n: int, horizon: int, count: int, min_train: int = 36) -> range:
    """The last ``count`` origins with a full horizon ahead and enough training history."""
    last = n - 1 - horizon
    return range(max(min_train - 1, last - count + 1), last + 1)


def stock_history(episodes: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    """Month-end shelter stock and flows from the first episode up to M (the series the backtest,
    damped ETS and the combined baseline read)."""
    from analysis.forecast.flows import history_months, spell_flows

    return spell_flows(episodes["start"], episodes["end"], history_months(episodes, month))


def local_backtest(tables: dict[str, pd.DataFrame], month: pd.Period, params, origins: int | None = None,
                   history: History | None = None) -> tuple[pd.DataFrame, CombinedForecaster]:
    """Backtest of the combined forecast on the month-end shelter stock, against naive, seasonal
    naive, drift, damped ETS and Little's law, over the last ``forecast.backtest_origins`` origins;
    and the combined forecaster, whose past forecasts calibrate the step's bands.

    The combined forecast's bands need its errors at earlier origins, so the stock-and-flow
    model is also fitted at the 12 origins before the first one backtested. ``history`` is
    ``History.from_tables`` of ``tables`` when the caller has built it already. Damped ETS is
    ``analysis.forecast.ets`` here (no statsmodels in the step).
    """
    from analysis.forecast.combined import CombinedForecaster, candidate_forecasters
    from analysis.forecast.methods import DampedETS, standard_methods
    from analysis.forecast.model import History, fit_history
    from analysis.forecast.simulate import simulate

    ep = tables["episodes"]
    flows = stock_history(ep, month)
    months = pd.PeriodIndex(flows.index, freq="M")
    y = flows["stock"].astype(float)
    ended = ep.dropna(subset=["end"])
    end_month = pd.PeriodIndex(ended["end"], freq="M")
    stay = (ended["nights"] / 30.4375).groupby(end_month).agg(["sum", "count"]).reindex(months, fill_value=0)
    mean_stay = (stay["sum"].rolling(12, min_periods=1).sum() / stay["count"].rolling(12, min_periods=1).sum())
    horizon = int(params["forecast.backtest_horizon_months"])
    paths = int(params["forecast.backtest_paths"])
    seed = int(params["forecast.seed"])
    if history is None:
        history = History.from_tables(tables["episodes"], tables["tenancies"], tables["support"], params)

    def structural(origin: int, h: int) -> np.ndarray:
        at = months[origin]
        fitted = fit_history(history.cut(at), at, params)  # the tables as they looked at the end of ``at``
        future = pd.period_range(at + 1, periods=h, freq="M")
        sim = simulate(fitted.rates, fitted.state, future, np.full(h, np.inf), paths, seed)
        return np.median(sim.series["shelter_stock"], axis=0)

    count = int(origins or params["forecast.backtest_origins"])
    chosen = default_origins(len(y), horizon, count)
    values = y.to_numpy()
    damped = DampedETS(values)
    combined = CombinedForecaster(values, candidate_forecasters(values, structural, damped),
                                  first_origin=max(chosen[0] - 12, 12), last_origin=chosen[-1], max_horizon=horizon)
    forecasters = {
        **standard_methods(values, damped), "model": combined,
        "littles_law": littles_law(y, flows["inflow"].astype(float), mean_stay.reset_index(drop=True)),
    }
    return rolling_backtest(y, forecasters, horizon, chosen), combined
