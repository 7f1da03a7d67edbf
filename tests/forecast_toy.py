"""A small history drawn from a known stock-and-flow process.

Tests of the forecast need processed tables whose true rates are
known, independent of the synthetic-data generator and the cleaning step: if
the model cannot recover these rates, the fault is in the model.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.forecast.simulate import METHODS, Rates
from analysis.months import day_after

MEAN_STAY_DAYS = {"transitional": 20.0, "episodic": 30.0, "chronic": 300.0}
RETURN_PER_MONTH = {"transitional": 0.02, "episodic": 0.25, "chronic": 0.08}
MIX = {"transitional": 0.8, "episodic": 0.1, "chronic": 0.1}
DEST = {"egen_bolig": 0.3, "botilbud": 0.05, "doed": 0.01, "gaden": 0.64}
SUPPORT_MEAN_MONTHS = {"CTI": 9.0, "ICM": 24.0, "ACT": 24.0, "none": 0.0}


def toy_history(month: str = "2025-10", start: str = "2019-01", arrivals: float = 60.0, seed: int = 1,
                growth: float = 0.0) -> dict[str, pd.DataFrame]:
    """Episodes, tenancies, support and shelters up to the end of ``month``.

    New arrivals are Poisson with ``arrivals`` a month (winter 20 % higher,
    growing ``growth`` a year); segments, stays, destinations and returns follow
    the module constants.
    """
    rng = np.random.default_rng(seed)
    ref = pd.Period(month, freq="M")
    stop = day_after(ref)
    t0 = pd.Timestamp(start)
    horizon = (stop - t0).days
    episodes, tenancies, support = [], [], []
    person = 0
    for m in pd.period_range(start, ref, freq="M"):
        years = (m.start_time - t0).days / 365.25
        lam = arrivals * (1.2 if m.month in (12, 1, 2) else 0.933) * (1 + growth) ** years
        for _ in range(rng.poisson(lam)):
            person += 1
            pid = f"{person:016x}"
            segment = rng.choice(list(MIX), p=list(MIX.values()))
            day = (m.start_time - t0).days + rng.integers(0, m.days_in_month)
            while day < horizon:
                length = max(1, int(rng.exponential(MEAN_STAY_DAYS[segment])))
                reason = rng.choice(list(DEST), p=list(DEST.values()))
                episodes.append((pid, day, day + length, reason))
                day += length
                if reason == "egen_bolig":
                    method = rng.choice(["CTI", "ICM", "ACT", "none"], p=[0.3, 0.1, 0.1, 0.5])
                    stay = int(rng.exponential(48 * 30.4))
                    tenancies.append((pid, day, day + stay, method))
                    if method != "none":
                        support.append((pid, method, day, day + int(rng.exponential(SUPPORT_MEAN_MONTHS[method] * 30.4))))
                    if rng.random() > 0.1:
                        break
                    day += stay + rng.integers(1, 60)
                elif reason in ("botilbud", "doed"):
                    break
                else:
                    gap = rng.geometric(RETURN_PER_MONTH[segment]) * 30.4 - rng.integers(0, 30)
                    day += max(2, int(gap))
    return _tables(episodes, tenancies, support, t0, stop)


def _dates(days, t0: pd.Timestamp, stop: pd.Timestamp) -> pd.Series:
    d = t0 + pd.to_timedelta(np.asarray(days, dtype="int64"), unit="D")
    return pd.Series(d).where(pd.Series(d) < stop)


def _tables(episodes, tenancies, support, t0, stop) -> dict[str, pd.DataFrame]:
    ep = pd.DataFrame(episodes, columns=["person_id", "s", "e", "discharge_category"])
    ep = ep[t0 + pd.to_timedelta(ep["s"], unit="D") < stop].reset_index(drop=True)
    ep["start"] = t0 + pd.to_timedelta(ep["s"], unit="D")
    ep["end"] = _dates(ep["e"], t0, stop)
    ep["open"] = ep["end"].isna()
    ep["discharge_category"] = ep["discharge_category"].where(~ep["open"])
    ep["nights"] = ((ep["end"].fillna(stop) - ep["start"]).dt.days).clip(lower=1)
    ep["episode_id"] = [f"E{i}" for i in range(len(ep))]
    ten = pd.DataFrame(tenancies, columns=["person_id", "s", "e", "support_method"])
    ten = ten[t0 + pd.to_timedelta(ten["s"], unit="D") < stop].reset_index(drop=True)
    ten["moved_in"] = t0 + pd.to_timedelta(ten["s"], unit="D")
    ten["moved_out"] = _dates(ten["e"], t0, stop)
    ten["allocation_id"] = [f"A{i}" for i in range(len(ten))]
    ten["housed_from_homelessness"] = True
    sup = pd.DataFrame(support, columns=["person_id", "method", "s", "e"])
    sup = sup[t0 + pd.to_timedelta(sup["s"], unit="D") < stop].reset_index(drop=True)
    sup["start"] = t0 + pd.to_timedelta(sup["s"], unit="D")
    sup["end"] = _dates(sup["e"], t0, stop)
    sup["support_id"] = [f"S{i}" for i in range(len(sup))]
    shelters = pd.DataFrame({
        "shelter_id": ["H1", "H2"], "name": ["Herberg", "Botilbud"], "ownership": ["kommunal", "kommunal"],
        "paragraph": ["110", "107"], "target_group": ["voksne", "voksne"], "places": [300, 60],
        "valid_from": [t0, t0], "valid_to": [pd.NaT, pd.NaT], "convertible_places": pd.array([40, pd.NA], dtype="Int64"),
    })
    return {
        "episodes": ep.drop(columns=["s", "e"]),
        "tenancies": ten.drop(columns=["s", "e"]),
        "support": sup.drop(columns=["s", "e"]),
        "shelters": shelters,
    }


def one_compartment(level: float, trend: float, seasonal: np.ndarray, exit_rate: float, damping: float = 1.0) -> Rates:
    """Rates of a single shelter compartment with geometric stays and no return loops."""
    zeros = np.zeros(len(METHODS))
    return Rates(
        entry_exit=np.zeros(1), exit_hazard=np.array([[exit_rate]]), dest=np.array([[0.0, 0.0, 0.0, 1.0]]),
        quick_return=np.zeros(1), return_hazard=np.zeros((1, 1)), return_mix=np.ones(1), s107_return=0.0,
        s107_mix=np.ones(1), new_level=level, new_trend=trend, seasonal=seasonal, new_mix=np.ones(1),
        housing_mix=np.ones(1), in_out_nights=np.ones(1), method_share=np.eye(len(METHODS))[-1], tenancy_share=0.0,
        support_end=zeros, housed_return=zeros, housed_leave=zeros, s107_exit=0.0, supply=np.inf, trend_damping=damping,
    )
