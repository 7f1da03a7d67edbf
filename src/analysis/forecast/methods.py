"""The standard forecasts the project's own is measured against, with prediction intervals.

Every forecaster answers ``(origin, h)`` with an array of shape (5, h): the point
forecast and the 80 % and 95 % bounds (rows ``BOUNDS``) for the ``h`` months after
position ``origin``, using only the values up to and including it. Naive, seasonal
naive and drift carry their textbook normal intervals (Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice*, 3rd ed., §5.5); damped exponential
smoothing is the candidate with the lowest AICc, fitted by statsmodels' state-space
ETS (the external reference of the accuracy table) or by ``analysis.forecast.ets``
(the same models in NumPy, for the monthly step and the combined forecast).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.forecast import ets
from analysis.forecast.backtest import Forecaster

BOUNDS = ("point", "lo80", "hi80", "lo95", "hi95")
LEVELS = (0.8, 0.95)
_Z = {0.8: 1.2815515655446004, 0.95: 1.959963984540054}


def with_normal_bands(point: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Point forecast and symmetric normal bounds from a standard deviation per horizon."""
    rows = [point]
    for level in LEVELS:
        rows += [point - _Z[level] * sd, point + _Z[level] * sd]
    return np.vstack(rows)


def _rmse(residuals: np.ndarray) -> float:
    return float(np.sqrt(np.mean(residuals**2))) if len(residuals) else np.nan


def naive(values: np.ndarray) -> Forecaster:
    """The last value; its error grows like a random walk's, σ√h."""
    def forecast(origin: int, h: int) -> np.ndarray:
        y = values[: origin + 1]
        k = np.arange(1, h + 1)
        return with_normal_bands(np.full(h, y[-1]), _rmse(np.diff(y)) * np.sqrt(k))
    return forecast


def seasonal_naive(values: np.ndarray, season: int = 12) -> Forecaster:
    """The same calendar month of the last observed year; σ√(whole years ahead + 1)."""
    def forecast(origin: int, h: int) -> np.ndarray:
        y = values[: origin + 1]
        k = np.arange(1, h + 1)
        point = y[len(y) - season + (k - 1) % season]
        return with_normal_bands(point, _rmse(y[season:] - y[:-season]) * np.sqrt((k - 1) // season + 1))
    return forecast


def drift(values: np.ndarray) -> Forecaster:
    """The line through the first and last value, extended; σ√(h(1 + h/T))."""
    def forecast(origin: int, h: int) -> np.ndarray:
        y = values[: origin + 1]
        n = len(y)
        slope = (y[-1] - y[0]) / (n - 1)
        k = np.arange(1, h + 1)
        resid = np.diff(y) - slope
        sd = _rmse(resid) * np.sqrt(n / max(n - 2, 1)) * np.sqrt(k * (1 + k / (n - 1)))
        return with_normal_bands(y[-1] + slope * k, sd)
    return forecast


def ets_candidates(n: int, season: int = ets.SEASON) -> list[dict]:
    """Damped-trend ETS models tried: error A or M; a season of the error's kind with two years of data."""
    out = []
    for error in ("add", "mul"):
        out.append({"error": error, "seasonal": None})
        if n >= 2 * season:
            out.append({"error": error, "seasonal": error})
    return out


def fit_statsmodels_ets(y: np.ndarray, season: int = ets.SEASON):
    """statsmodels' damped ETS fit with the lowest AICc (multiplicative forms only for positive data).

    Initial states by the heuristic of Hyndman et al. (2008, §2.6.1) rather than estimated:
    a seasonal fit then takes ~0.02 s instead of ~1.5 s, and the smoothing parameters are
    still estimated by maximum likelihood."""
    import warnings

    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel  # ~1 s to import: only when used

    series = pd.Series(y, dtype=float)  # statsmodels' simulated intervals need an indexed series
    best = None
    for spec in ets_candidates(len(y), season):
        if spec["error"] == "mul" and (y <= 0).any():
            continue
        model = ETSModel(series, error=spec["error"], trend="add", damped_trend=True, seasonal=spec["seasonal"],
                         seasonal_periods=season if spec["seasonal"] else None,
                         initialization_method="heuristic")
        try:
            with warnings.catch_warnings():  # a fit that stops early is still a candidate; AICc judges it
                warnings.simplefilter("ignore", ConvergenceWarning)
                fitted = model.fit(disp=False, maxiter=200)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(fitted.aicc) and (best is None or fitted.aicc < best.aicc):
            best = fitted
    if best is None:
        raise ValueError(f"no damped ETS model could be fitted to {len(y)} values")
    return best


def ets_bands(fitted, h: int) -> np.ndarray:
    """Point forecast and 80/95 % bounds of a fitted ETS model (simulated where not analytic)."""
    n = fitted.model.nobs
    pred = fitted.get_prediction(start=n, end=n + h - 1, simulate_repetitions=500, rng=np.random.default_rng(0))
    rows = [np.asarray(pred.predicted_mean, dtype=float).ravel()]
    for level in LEVELS:
        frame = pred.summary_frame(alpha=1 - level)
        rows += [frame["pi_lower"].to_numpy(float), frame["pi_upper"].to_numpy(float)]
    return np.vstack(rows)


def numpy_ets_bands(fitted: ets.EtsFit, h: int) -> np.ndarray:
    """Point forecast and normal 80/95 % bounds of a NumPy ETS fit (its analytic standard deviation)."""
    return with_normal_bands(fitted.forecast(h), fitted.sd(h))


class DampedETS:
    """Damped ETS chosen by AICc at each origin. Fits are cached, so the combined forecast
    (which needs only the point) and the benchmark row share one fit per origin.
    ``statsmodels=True`` fits with statsmodels (the accuracy table's external reference)."""

    def __init__(self, values: np.ndarray, statsmodels: bool = False):
        self.values = np.asarray(values, dtype=float)
        self._fit = fit_statsmodels_ets if statsmodels else ets.fit_damped_ets
        self._band = ets_bands if statsmodels else numpy_ets_bands
        self._fits: dict[int, object] = {}
        self._bands: dict[tuple[int, int], np.ndarray] = {}

    def fitted(self, origin: int):
        if origin not in self._fits:
            self._fits[origin] = self._fit(self.values[: origin + 1])
        return self._fits[origin]

    def point(self, origin: int, h: int) -> np.ndarray:
        return np.asarray(self.fitted(origin).forecast(h), dtype=float).ravel()

    def __call__(self, origin: int, h: int) -> np.ndarray:
        if (origin, h) not in self._bands:
            self._bands[origin, h] = self._band(self.fitted(origin), h)
        return self._bands[origin, h]


def standard_methods(values: np.ndarray, damped: DampedETS | None = None) -> dict[str, Forecaster]:
    """The four references of the evaluation, by the names the accuracy table uses."""
    return {"naive": naive(values), "seasonal_naive": seasonal_naive(values), "drift": drift(values),
            "damped_ets": damped or DampedETS(values)}
