"""The project's point forecast and its bands (docs/forecast.md, "the combined baseline").

Point: the equal-weight mean of damped ETS (AICc) and the stock-and-flow model's
no-trend baseline (weights fixed by rule, not estimated: the forecast combination
puzzle). Bands: the normal-theory prediction interval of the combined forecast's own
past errors per horizon (log ratios actual / forecast), each bound's distance from the
mean error rescaled by adaptive conformal inference (Gibbs & Candès 2021): every
resolved miss widens it, every hit narrows it, so that the long-run share of misses
tends to the nominal one even when the series changes. Everything at an origin uses
only data up to that origin.
"""
from __future__ import annotations

from dataclasses import replace
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from analysis.forecast.backtest import Forecaster
from analysis.forecast.methods import LEVELS, DampedETS

if TYPE_CHECKING:
    from analysis.forecast.simulate import Paths

MIN_ERRORS = 12  # fewer errors at one horizon: pool all horizons, scaled by √h
MIN_POOLED = 4  # no band from fewer past errors (t quantiles need 3 degrees of freedom, below)
ACI_STEP = 0.05  # a year of misses in a row at one horizon widens that bound's distance 1.7-fold (docs rule 6)

BAND_PROBS = np.array([p for level in LEVELS for p in ((1 - level) / 2, 1 - (1 - level) / 2)])  # lo80, hi80, lo95, hi95
_KNOTS = np.argsort(BAND_PROBS)  # the bounds in increasing probability, for interpolating between them


def log_ratio_quantiles(errors: dict[int, np.ndarray], horizon: int, probs: np.ndarray = BAND_PROBS) -> np.ndarray:
    """Quantiles ``probs`` (rows) of log(actual / forecast) for horizons 1..``horizon`` (columns),
    as ``prediction_quantiles`` of the past errors.

    ``errors[k]`` holds the past log ratios at horizon k. A horizon with fewer than
    ``MIN_ERRORS`` uses the pooled errors of all horizons divided by √k', times √k;
    horizons beyond the longest observed grow from it with √k. Bounds never narrow with k.
    """
    pooled = np.concatenate([e / np.sqrt(k) for k, e in errors.items()]) if errors else np.empty(0)
    longest = max((k for k, e in errors.items() if len(e) >= MIN_ERRORS), default=0)
    out = np.empty((len(probs), horizon))
    for k in range(1, horizon + 1):
        if k <= longest and len(errors.get(k, ())) >= MIN_ERRORS:
            out[:, k - 1] = prediction_quantiles(errors[k], probs)
        elif longest:
            out[:, k - 1] = prediction_quantiles(errors[longest], probs) * np.sqrt(k / longest) if k > longest else \
                prediction_quantiles(pooled, probs) * np.sqrt(k)
        elif len(pooled) >= MIN_POOLED:
            out[:, k - 1] = prediction_quantiles(pooled, probs) * np.sqrt(k)
        else:
            raise ValueError("no past forecast errors to calibrate the bands on")
    return _outward(out, probs)


def t_quantiles(probs: np.ndarray, df: float) -> np.ndarray:
    """Student-t quantiles by the Cornish-Fisher expansion of Abramowitz & Stegun 26.7.5 (scipy's
    import would cost the monthly step 0.6 s); within 0.004 of exact at 2.5-97.5 % from 3 df."""
    z = np.array([NormalDist().inv_cdf(p) for p in np.clip(probs, 1e-9, 1 - 1e-9)])
    v = float(df)
    return (z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4))


def prediction_quantiles(errors: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Bounds for the next error from ``errors``: mean + t(n−1) × sd × √(1 + 1/n), the normal-theory
    prediction interval for a new draw. Unlike empirical quantiles it uses every error for the
    spread, so a 95 % band from 20 errors is not just their extremes."""
    n = len(errors)
    return errors.mean() + t_quantiles(probs, n - 1) * errors.std(ddof=1) * np.sqrt(1 + 1 / n)


def _outward(quantiles: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """A later horizon is never more certain than an earlier one: with few errors per horizon the
    empirical quantiles jitter, so each bound is carried outward along the horizons."""
    low, high = probs < 0.5, probs > 0.5
    quantiles[low] = np.minimum.accumulate(quantiles[low], axis=1)
    quantiles[high] = np.maximum.accumulate(quantiles[high], axis=1)
    return quantiles


def aci_scale(misses: np.ndarray, miss_rate: float, step: float = ACI_STEP) -> float:
    """Log factor on a bound's distance from the median error after the resolved ``misses`` (0/1):
    step × Σ(miss − nominal miss rate), the adaptive conformal update summed over the past."""
    return float(step * np.sum(np.asarray(misses, dtype=float) - miss_rate))


def banded(point: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """(5, h): the point and the point × exp(quantile) bounds."""
    return np.vstack([point, point * np.exp(quantiles)])


def candidate_forecasters(values: np.ndarray, structural: Forecaster, damped: DampedETS | None = None) -> dict[str, Forecaster]:
    """The combination's candidates as point forecasters: damped ETS and the stock-and-flow model."""
    return {"damped_ets": (damped or DampedETS(values)).point, "stock_flow": structural}


class CombinedForecaster:
    """The combined forecast of a monthly stock ``values`` at any origin, with calibrated bands.

    ``candidates`` answer ``(origin, h)`` with point forecasts. Past errors come from
    origins ``first_origin`` .. ``last_origin`` (None: any) whose target month is observed
    at the origin asked about. Candidate forecasts, errors and bands are cached per origin.
    """

    def __init__(self, values: np.ndarray, candidates: dict[str, Forecaster], first_origin: int,
                 last_origin: int | None = None, max_horizon: int = 12, aci_step: float = ACI_STEP):
        self.values = np.asarray(values, dtype=float)
        self.candidates = candidates
        self.first = first_origin
        self.last = len(self.values) - 1 if last_origin is None else last_origin
        self.horizon = max_horizon
        self.aci_step = aci_step
        n, c, h = len(self.values), len(candidates), max_horizon
        self._points = np.full((n, c, h), np.nan)  # candidates' forecasts per origin
        self._combined = np.full((n, h), np.nan)
        self._misses = np.full((n, len(BAND_PROBS), h), np.nan)  # 1 where the band published at o missed
        self._checked: set[int] = set()

    def _candidate_points(self, origin: int) -> np.ndarray:
        if np.isnan(self._points[origin, 0, 0]):
            self._points[origin] = [f(origin, self.horizon) for f in self.candidates.values()]
        return self._points[origin]

    def _resolved(self, origin: int, k: int) -> slice:
        """Past origins whose forecast k months ahead is observed at ``origin``."""
        return slice(self.first, min(origin - k, self.last) + 1)

    def point(self, origin: int, h: int | None = None, given: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The combined point for ``h`` months; ``given`` replaces candidates' forecasts (the step's
        simulated baseline)."""
        h = h or self.horizon
        if given is None and h <= self.horizon and np.isfinite(self._combined[origin, 0]):
            return self._combined[origin, :h]
        given = given or {}
        points = np.vstack([given[name][:h] if name in given else f(origin, h) if h > self.horizon
                            else self._candidate_points(origin)[i, :h]
                            for i, (name, f) in enumerate(self.candidates.items())])
        combined = points.mean(axis=0)
        if not given and h == self.horizon:
            self._combined[origin] = combined
        return combined

    def past_errors(self, origin: int) -> dict[int, np.ndarray]:
        """The combined forecast's log ratios actual / forecast at each horizon k, from resolved origins."""
        out = {}
        for k in range(1, self.horizon + 1):
            past = self._resolved(origin, k)
            fc = np.array([self.point(o)[k - 1] for o in range(past.start, past.stop)])
            actual = self.values[past.start + k: past.stop + k]
            ok = (fc > 0) & (actual > 0)
            if ok.any():
                out[k] = np.log(actual[ok] / fc[ok])
        return out

    def scales(self, origin: int) -> np.ndarray:
        """(bounds, horizons): the adaptive conformal log factor of each band bound (``aci_scale``)."""
        out = np.zeros((len(BAND_PROBS), self.horizon))
        miss_rate = np.minimum(BAND_PROBS, 1 - BAND_PROBS)
        for k in range(1, self.horizon + 1):
            past = self._resolved(origin, k)
            for o in range(past.start, past.stop):
                self._band_misses(o)
            m = self._misses[past, :, k - 1]
            for j in range(len(BAND_PROBS)):
                out[j, k - 1] = aci_scale(m[np.isfinite(m[:, j]), j], miss_rate[j], self.aci_step)
        return out

    def _band_misses(self, origin: int) -> None:
        """Record where the band published at ``origin`` missed (none before ``MIN_POOLED`` past errors)."""
        if origin in self._checked:
            return
        self._checked.add(origin)
        past = self.past_errors(origin)
        if sum(len(e) for e in past.values()) < MIN_POOLED:
            return
        bounds = self.log_quantiles(origin, self.horizon, BAND_PROBS, past)
        errors = self._combined_errors(origin)
        ok = np.isfinite(errors)
        low = BAND_PROBS < 0.5
        miss = np.where(low[:, None], errors < bounds, errors > bounds).astype(float)
        self._misses[origin][:, ok] = miss[:, ok]

    def _combined_errors(self, origin: int) -> np.ndarray:
        """Log ratios actual / combined forecast at ``origin`` (NaN beyond the data)."""
        actual = np.full(self.horizon, np.nan)
        seen = self.values[origin + 1: origin + 1 + self.horizon]
        actual[: len(seen)] = seen
        fc = self.point(origin)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((fc > 0) & (actual > 0), np.log(actual / fc), np.nan)

    def log_quantiles(self, origin: int, h: int, probs: np.ndarray,
                      past: dict[int, np.ndarray] | None = None) -> np.ndarray:
        """(probs, h) log ratios the bounds lie at: the past errors' quantiles, their distance from
        the mean error rescaled by exp(``scales``), interpolated between the four band bounds
        for other probabilities; beyond the longest horizon its scale holds."""
        q = log_ratio_quantiles(self.past_errors(origin) if past is None else past, h, np.r_[0.5, probs])
        centre, q = q[0], q[1:]
        theta = self.scales(origin)[_KNOTS][:, np.minimum(np.arange(h), self.horizon - 1)]
        factor = np.exp(np.vstack([np.interp(probs, BAND_PROBS[_KNOTS], theta[:, k]) for k in range(h)]).T)
        return _outward(centre + (q - centre) * factor, probs)

    def __call__(self, origin: int, h: int) -> np.ndarray:
        return banded(self.point(origin, h), self.log_quantiles(origin, h, BAND_PROBS))


def rebase(results: dict[str, Paths], combined: CombinedForecaster, seed: int) -> tuple[dict[str, Paths], np.ndarray]:
    """Every scenario on top of the combined baseline with calibrated bands, and the combined point.

    ``combined`` knows the month-end stock history and the backtest's past forecasts; at the
    last month its stock-and-flow candidate is the baseline scenario's median stock. Path i
    gets the quantile u_i of the (rescaled) past errors at each horizon (one u_i per path,
    the same in every scenario: level errors persist, so a year's mean has the full width,
    and scenario differences are the levers' alone), and each scenario keeps its own
    difference to the simulated baseline. The shelter stock and the §110 nights (hence
    places and §110 costs) are moved; the flows are not, so the cross-checks of the
    simulation read ``results`` as simulated.
    """
    base = results["baseline"]
    n_months = len(base.months)
    simulated = np.median(base.series["shelter_stock"], axis=0)
    origin = len(combined.values) - 1
    point = combined.point(origin, n_months, given={"stock_flow": simulated})
    u = np.random.default_rng(seed).uniform(size=base.series["shelter_stock"].shape[0])
    offset = point * np.exp(combined.log_quantiles(origin, n_months, u)) - simulated  # paths x months
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
