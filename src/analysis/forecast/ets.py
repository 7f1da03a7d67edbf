"""Damped exponential smoothing in NumPy: the model family of statsmodels' ``ETSModel`` without
its ~1 s import and per-fit optimiser, so the monthly step can refit it at every origin.

Models (Hyndman et al. 2008, error-correction form): damped additive trend, error additive
or multiplicative, season none or (with two years of data) of the error's kind; initial
states by the heuristic of §2.6.1 (as ``ETSModel(initialization_method="heuristic")``).
The smoothing parameters are chosen by maximum likelihood over a grid evaluated for all
parameter sets at once, then a finer grid around the best; the model with the lowest AICc
wins. ``tests/test_forecast_ets.py`` checks the forecasts against statsmodels on the real series.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

SEASON = 12
PHI_BOUNDS = (0.8, 0.98)  # statsmodels' (and Hyndman et al.'s) usual range for the damping
_EDGE = 1e-4  # smoothing parameters stay inside (0, 1), as in statsmodels
# coarse grid: alpha, beta / alpha, gamma / (1 - alpha), phi
_COARSE = (np.array([0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.9999]), np.array([_EDGE, 0.1, 0.3, 0.6, 0.9999]),
           np.array([_EDGE, 0.1, 0.3]), np.linspace(*PHI_BOUNDS, 4))
_STEPS = (0.07, 0.1, 0.05, 0.03)  # half-widths of the finer grid around the coarse optimum


@dataclass(frozen=True)
class EtsFit:
    """A fitted damped ETS model: parameters, final states and the residual scale."""

    error: str  # "add" or "mul"
    seasonal: bool
    alpha: float
    beta: float
    gamma: float
    phi: float
    level: float
    trend: float
    season: np.ndarray  # (SEASON,) the seasonal states for the next SEASON months, next month first
    sigma: float  # residual sd (relative for the multiplicative error)
    aicc: float

    def forecast(self, h: int) -> np.ndarray:
        """Point forecasts for the ``h`` months after the last observation."""
        damp = np.cumsum(self.phi ** np.arange(1, h + 1))
        base = self.level + damp * self.trend
        if not self.seasonal:
            return base
        s = self.season[np.arange(h) % SEASON]
        return base * s if self.error == "mul" else base + s

    def sd(self, h: int) -> np.ndarray:
        """Forecast standard deviation per horizon: the class-1 formula of Hyndman et al. (2008, §6.3),
        on the relative scale (times the point) for the multiplicative error."""
        damp = np.cumsum(self.phi ** np.arange(1, h))
        c = self.alpha + self.beta * damp + self.gamma * (np.arange(1, h) % SEASON == 0)
        var = self.sigma**2 * np.r_[1.0, 1.0 + np.cumsum(c**2)]
        return np.sqrt(var) * (np.abs(self.forecast(h)) if self.error == "mul" else 1.0)


def heuristic_states(y: np.ndarray, seasonal: str | None) -> tuple[float, float, np.ndarray]:
    """Initial level, trend and seasonal states (statsmodels' ``_initialization_heuristic``)."""
    season = np.zeros(SEASON) if seasonal != "mul" else np.ones(SEASON)
    base = y
    if seasonal:
        cycles = max(min(5, len(y) // SEASON), int(np.ceil((10 + 2 * (SEASON // 2)) / SEASON)))
        part = y[: SEASON * cycles]
        kernel = np.r_[0.5, np.ones(SEASON - 1), 0.5] / SEASON  # centred 2×12 moving average
        trend = np.full(len(part), np.nan)
        trend[SEASON // 2: len(part) - SEASON // 2] = np.convolve(part, kernel, mode="valid")
        detrended = part / trend if seasonal == "mul" else part - trend
        padded = np.full(cycles * SEASON, np.nan)
        padded[: len(detrended)] = detrended
        season = np.nanmean(padded.reshape(cycles, SEASON), axis=0)
        season = season / season.mean() if seasonal == "mul" else season - season.mean()
        base = trend[~np.isnan(trend)]
    x = np.c_[np.ones(10), np.arange(1, 11)]
    level, slope = np.linalg.lstsq(x, base[:10], rcond=None)[0]
    return float(level), float(slope), season


def _filter(y: np.ndarray, error: str, seasonal: bool, params: np.ndarray, start: tuple[float, float, np.ndarray]):
    """Run the recursions for every parameter set (rows of ``params``: alpha, beta, gamma, phi) at once.

    Returns the log-likelihood per set and the final states (level, trend, season ring)."""
    alpha, beta, gamma, phi = params.T
    p = len(params)
    level = np.full(p, start[0])
    trend = np.full(p, start[1])
    season = np.tile(start[2], (p, 1))
    sse = np.zeros(p)
    log_yhat = np.zeros(p)
    mul = error == "mul"
    for t, obs in enumerate(y):
        j = t % SEASON
        base = level + phi * trend
        if not seasonal:
            yhat = base
        else:
            yhat = base * season[:, j] if mul else base + season[:, j]
        e = obs - yhat
        if mul:
            eps = e / yhat
            sse += eps**2
            log_yhat += np.log(np.abs(yhat))
            level = base * (1 + alpha * eps)
            trend = phi * trend + beta * base * eps
            if seasonal:
                season[:, j] *= 1 + gamma * eps
        else:
            sse += e**2
            level = base + alpha * e
            trend = phi * trend + beta * e
            if seasonal:
                season[:, j] += gamma * e
    n = len(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        llf = -0.5 * n * (np.log(2 * np.pi * sse / n) + 1) - log_yhat
    llf[~np.isfinite(llf)] = -np.inf
    # the ring holds the state of calendar position t % SEASON; the next month is position n % SEASON
    ring = np.roll(season, -(n % SEASON), axis=1)
    return llf, level, trend, ring, sse


def _grid(alpha, beta_star, gamma_star, phi, seasonal: bool) -> np.ndarray:
    """Parameter sets (alpha, beta, gamma, phi) in statsmodels' bounds: beta < alpha, gamma < 1 - alpha."""
    g = np.array(list(product(alpha, beta_star, gamma_star if seasonal else [0.0], phi)))
    g[:, 0] = np.clip(g[:, 0], _EDGE, 1 - _EDGE)
    g[:, 1] = np.clip(g[:, 1], _EDGE, 1 - _EDGE) * g[:, 0]
    g[:, 2] = np.clip(g[:, 2], _EDGE, 1 - _EDGE) * (1 - g[:, 0]) if seasonal else 0.0
    g[:, 3] = np.clip(g[:, 3], *PHI_BOUNDS)
    return g


def fit_one(y: np.ndarray, error: str, seasonal: bool) -> EtsFit:
    """Maximum likelihood over a coarse grid, then a finer grid around its best point."""
    start = heuristic_states(y, error if seasonal else None)
    grid = _grid(*_COARSE, seasonal)
    llf = _filter(y, error, seasonal, grid, start)[0]
    a, b, g, f = grid[int(np.argmax(llf))]
    star = (a, b / a, g / (1 - a) if seasonal else 0.0, f)
    fine = _grid(*(np.array([v - s, v, v + s]) for v, s in zip(star, _STEPS)), seasonal)
    llf, level, trend, ring, sse = _filter(y, error, seasonal, fine, start)
    i = int(np.argmax(llf))
    k = 3 + seasonal + 1  # alpha, beta, phi, (gamma) and the variance
    n = len(y)
    aicc = -2 * llf[i] + 2 * k + 2 * k * (k + 1) / max(n - k - 1, 1)
    return EtsFit(error, seasonal, *fine[i], level[i], trend[i], ring[i], float(np.sqrt(sse[i] / n)), float(aicc))


def fit_damped_ets(y: np.ndarray) -> EtsFit:
    """The damped ETS candidate with the lowest AICc (multiplicative forms only for positive data)."""
    y = np.asarray(y, dtype=float)
    if len(y) < 10:
        raise ValueError(f"damped ETS needs at least 10 values, got {len(y)}")
    errors = ("add", "mul") if (y > 0).all() else ("add",)
    fits = [fit_one(y, e, s) for e in errors for s in ((False, True) if len(y) >= 2 * SEASON else (False,))]
    fits = [f for f in fits if np.isfinite(f.aicc)]
    if not fits:
        raise ValueError(f"no damped ETS model could be fitted to {len(y)} values")
    return min(fits, key=lambda f: f.aicc)
