"""The project's point forecast and its bands (docs/forecast.md, "the combined baseline").

Point: the equal-weight mean of damped ETS (AICc) and the stock-and-flow model's
no-trend baseline. Bands: the combined forecast's own past errors at each horizon,
as log ratios actual / forecast from earlier origins whose target month is already
observed, so a band is only as narrow as the forecast has earned.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from analysis.forecast.methods import LEVELS, DampedETS

if TYPE_CHECKING:
    from analysis.forecast.simulate import Paths

WEIGHT_ETS = 0.5  # fixed by rule, not estimated (forecast combination puzzle)
MIN_ERRORS = 12  # fewer errors at one horizon: pool all horizons, scaled by √h


BAND_PROBS = np.array([p for level in LEVELS for p in ((1 - level) / 2, 1 - (1 - level) / 2)])  # lo80, hi80, lo95, hi95


def log_ratio_quantiles(errors: dict[int, np.ndarray], horizon: int, probs: np.ndarray = BAND_PROBS) -> np.ndarray:
    """Quantiles ``probs`` (rows) of log(actual / forecast) for horizons 1..``horizon`` (columns).

    ``errors[k]`` holds the past log ratios at horizon k. A horizon with fewer than
    ``MIN_ERRORS`` uses the pooled errors of all horizons divided by √k', times √k;
    horizons beyond the longest observed grow from it with √k. Bounds never narrow with k.
    """
    pooled = np.concatenate([e / np.sqrt(k) for k, e in errors.items()]) if errors else np.empty(0)
    longest = max((k for k, e in errors.items() if len(e) >= MIN_ERRORS), default=0)
    out = np.empty((len(probs), horizon))
    for k in range(1, horizon + 1):
        if k <= longest and len(errors.get(k, ())) >= MIN_ERRORS:
            out[:, k - 1] = np.quantile(errors[k], probs)
        elif longest:
            out[:, k - 1] = np.quantile(errors[longest], probs) * np.sqrt(k / longest) if k > longest else \
                np.quantile(pooled, probs) * np.sqrt(k)
        elif len(pooled):
            out[:, k - 1] = np.quantile(pooled, probs) * np.sqrt(k)
        else:
            raise ValueError("no past forecast errors to calibrate the bands on")
    # a later horizon is never more certain than an earlier one: few errors per horizon make
    # the empirical quantiles jitter, so each bound is carried outward
    low, high = probs < 0.5, probs > 0.5
    out[low] = np.minimum.accumulate(out[low], axis=1)
    out[high] = np.maximum.accumulate(out[high], axis=1)
    return out


def banded(point: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """(5, h): the point and the point × exp(quantile) bounds."""
    return np.vstack([point, point * np.exp(quantiles)])


class CombinedForecaster:
    """The combined forecast of a monthly stock ``values`` at any origin, with calibrated bands.

    ``structural(origin, h)`` is the stock-and-flow model's expected stock. Point
    forecasts are cached per origin, so the bands' past errors cost one fit per origin.
    """

    def __init__(self, values: np.ndarray, structural: Callable[[int, int], np.ndarray], ets: DampedETS | None = None,
                 min_train: int = 13, max_horizon: int = 12):
        self.values = np.asarray(values, dtype=float)
        self.structural = structural
        self.ets = ets or DampedETS(self.values, max_horizon=max_horizon)
        self.min_train = min_train
        self.max_horizon = max_horizon
        self._points: dict[int, np.ndarray] = {}

    def point(self, origin: int, h: int | None = None) -> np.ndarray:
        h = h or self.max_horizon
        if origin not in self._points or len(self._points[origin]) < h:
            self._points[origin] = (WEIGHT_ETS * self.ets.point(origin, h)
                                    + (1 - WEIGHT_ETS) * self.structural(origin, h))
        return self._points[origin][:h]

    def past_errors(self, origin: int) -> dict[int, np.ndarray]:
        """Log ratios actual / forecast at each horizon k from origins o with o + k <= ``origin``."""
        errors: dict[int, list[float]] = {}
        for o in range(self.min_train - 1, origin):
            seen = min(origin - o, self.max_horizon)
            fc = self.point(o)[:seen]
            actual = self.values[o + 1: o + 1 + seen]
            ok = (fc > 0) & (actual > 0)
            for k in np.flatnonzero(ok) + 1:
                errors.setdefault(int(k), []).append(float(np.log(actual[k - 1] / fc[k - 1])))
        return {k: np.array(v) for k, v in errors.items()}

    def __call__(self, origin: int, h: int) -> np.ndarray:
        return banded(self.point(origin, h), log_ratio_quantiles(self.past_errors(origin), h))


def model_errors(backtest: pd.DataFrame) -> dict[int, np.ndarray]:
    """The combined forecast's log ratios actual / forecast per horizon, from a backtest table."""
    m = backtest[(backtest["method"] == "model") & (backtest["forecast"] > 0) & (backtest["actual"] > 0)]
    return {int(h): np.log(g["actual"] / g["forecast"]).to_numpy() for h, g in m.groupby("h")}


def rebase(results: dict[str, Paths], stock: np.ndarray, errors: dict[int, np.ndarray],
           seed: int) -> tuple[dict[str, Paths], np.ndarray]:
    """Every scenario on top of the combined baseline with calibrated bands, and the combined point.

    The combined point is the mean of damped ETS on the month-end ``stock`` history and
    the baseline scenario's median stock. Path i gets the quantile u_i of the past errors
    at each horizon (one u_i per path, the same in every scenario: level errors persist,
    so a year's mean has the full width, and scenario differences are the levers' alone),
    and each scenario keeps its own difference to the simulated baseline. The shelter stock
    and the §110 nights (hence places and §110 costs) are moved; the flows are not, so the
    cross-checks of the simulation read ``results`` as simulated.
    """
    base = results["baseline"]
    n_months = len(base.months)
    simulated = np.median(base.series["shelter_stock"], axis=0)
    ets = DampedETS(np.asarray(stock, dtype=float), max_horizon=n_months)
    point = WEIGHT_ETS * ets.point(len(stock) - 1, n_months) + (1 - WEIGHT_ETS) * simulated
    u = np.random.default_rng(seed).uniform(size=base.series["shelter_stock"].shape[0])
    offset = point * np.exp(log_ratio_quantiles(errors, n_months, u)) - simulated  # paths x months
    out = {}
    for name, paths in results.items():
        s = dict(paths.series)
        days = np.array([m.days_in_month for m in paths.months], dtype=float)
        moved = np.maximum(s["shelter_stock"] + offset, 0)
        share = np.divide(s["nights_110_reimbursable"], s["nights_110"], out=np.ones_like(s["nights_110"]),
                          where=s["nights_110"] > 0)
        s["nights_110"] = np.maximum(s["nights_110"] + (moved - s["shelter_stock"]) * days, 0)
        s["nights_110_reimbursable"] = s["nights_110"] * share
        s["shelter_stock"] = moved
        out[name] = replace(paths, series=s)
    return out, point
