"""The stock-and-flow model: closed-form steady state, estimation on known processes."""
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.forecast.model import History, discrete_hazard, fit, fit_history
from analysis.forecast.simulate import METHODS, Knobs, State, _GroupedBinomial, simulate
from analysis.months import day_after, month_end
from tests.forecast_toy import one_compartment, toy_history
from analysis.params import load_params


def _single_segment_history(lam: float, mean_days: float, months: pd.PeriodIndex, seed: int) -> dict:
    """Poisson arrivals (uniform days) with exponential stays, nobody returns."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in months:
        for day in rng.integers(0, m.days_in_month, rng.poisson(lam)):
            start = m.start_time + pd.Timedelta(days=int(day))
            rows.append((start, start + pd.Timedelta(days=max(1, int(round(rng.exponential(mean_days)))))))
    ep = pd.DataFrame(rows, columns=["start", "end"])
    stop = months[-1].end_time.normalize()
    ep["end"] = ep["end"].where(ep["end"] <= stop)
    ep["person_id"] = [f"{i:016x}" for i in range(len(ep))]
    ep["discharge_category"] = np.where(ep["end"].isna(), None, "gaden")
    ep["nights"] = (ep["end"].fillna(stop + pd.Timedelta(days=1)) - ep["start"]).dt.days.clip(lower=1)
    ten = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]") for c in ("moved_in", "moved_out")}).assign(
        allocation_id=pd.Series(dtype=str), person_id=pd.Series(dtype=str), support_method=pd.Series(dtype=str),
        housed_from_homelessness=pd.Series(dtype=bool))
    sup = pd.DataFrame({"person_id": pd.Series(dtype=str), "method": pd.Series(dtype=str),
                        "start": pd.Series(dtype="datetime64[ns]"), "end": pd.Series(dtype="datetime64[ns]")})
    return {"episodes": ep, "tenancies": ten, "support": sup}


def test_one_compartment_steady_state_is_arrivals_over_hazard():
    rates = one_compartment(level=80.0, trend=0.0, seasonal=np.ones(12), exit_rate=0.25)
    state = State(np.array([[0]]), np.zeros((1, 1)), np.zeros(7), np.zeros(len(METHODS)))
    months = pd.period_range("2030-01", periods=60, freq="M")
    sim = simulate(rates, state, months, np.full(60, np.inf), paths=400, seed=3)
    assert sim.series["shelter_stock"][:, 36:].mean() == pytest.approx(80 / 0.25, rel=0.02)


def test_closed_form_littles_law_after_fitting():
    """Constant arrivals λ and exponential stays with mean μ: the fitted and simulated
    steady-state stock is λ·μ (M/M/∞), within 5 %."""
    lam, mean_days = 100.0, 60.0
    months = pd.period_range("2018-01", "2023-12", freq="M")
    hist = _single_segment_history(lam, mean_days, months, seed=11)
    params = load_params(overrides=["forecast.trend_cap=0.0"])
    fitted = fit(hist["episodes"], hist["tenancies"], hist["support"], months[-1], params)
    future = pd.period_range("2024-01", periods=48, freq="M")
    sim = simulate(fitted.rates, fitted.state, future, np.full(48, np.inf), paths=300, seed=5)
    expected = lam * mean_days / 30.4375
    assert sim.series["shelter_stock"][:, 24:].mean() == pytest.approx(expected, rel=0.05)
    nights_per_day = sim.series["nights_110"][:, 24:].sum(axis=1).mean() / sum(m.days_in_month for m in future[24:])
    assert nights_per_day == pytest.approx(expected, rel=0.05)


def test_discrete_hazard_counts_month_end_transitions():
    ks = np.array([0.0, 0.0, 2.0])
    ke = np.array([2.0, np.nan, 3.0])
    events, exposure = discrete_hazard(ks, ke, np.zeros(3), 1, 3, last=5, window=10)
    # spell 1: at risk at month ends 0 and 1, leaves at 1->2; spell 2: open, 0..4; spell 3: 2, leaves 2->3
    assert exposure[0].tolist() == [3, 2, 3]
    assert events[0].tolist() == [1, 1, 0]



@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_discrete_hazard_matches_month_by_month_count(seed):
    """Counted per spell, the same as walking every spell's month ends one by one."""
    rng = np.random.default_rng(seed)
    n, n_groups, n_bins = int(rng.integers(0, 40)), int(rng.integers(1, 4)), int(rng.integers(1, 6))
    last, window = int(rng.integers(0, 30)), int(rng.integers(1, 30))
    ks = rng.integers(-5, 30, n).astype(float)
    ke = np.where(rng.random(n) < 0.3, np.nan, ks + rng.integers(0, 20, n))
    group, flag = rng.integers(0, n_groups, n), rng.random(n) < 0.7
    events, exposure = np.zeros((n_groups, n_bins)), np.zeros((n_groups, n_bins))
    for s, e, g, f in zip(ks, ke, group, flag):
        for j in range(int(max(s, last - window)), int(min(last, np.inf if np.isnan(e) else e))):
            age = min(j - int(s), n_bins - 1)
            exposure[g, age] += 1
            events[g, age] += f and j + 1 == e
    got_events, got_exposure = discrete_hazard(ks, ke, group, n_groups, n_bins, last, window, event=flag)
    assert np.array_equal(got_exposure, exposure) and np.array_equal(got_events, events)

def test_fit_recovers_toy_rates_roughly():
    hist = toy_history(month="2024-12", start="2015-01", seed=4)
    fitted = fit(hist["episodes"], hist["tenancies"], hist["support"], pd.Period("2024-12", freq="M"), load_params())
    r = fitted.rates
    assert r.dest[:, 0].mean() == pytest.approx(0.3, abs=0.06)  # toy: 30 % of exits to housing
    assert r.return_mix[1] > 2 * r.new_mix[1]  # episodic users are over-represented among returners
    assert r.exit_hazard[2, 3:12].mean() < r.exit_hazard[0, :3].mean()  # chronic stays are long
    assert fitted.state.shelter.sum() == hist["episodes"]["end"].isna().sum()


# a fitted toy model shared by the property test (hypothesis forbids function fixtures)
_TOY = toy_history(month="2024-12", start="2018-01", seed=9)
_TOY_FIT = fit(_TOY["episodes"], _TOY["tenancies"], _TOY["support"], pd.Period("2024-12", freq="M"), load_params())


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.5, 2.0), st.floats(0.3, 1.5))
def test_simulated_flows_reconcile_with_stocks(seed, inflow, supply):
    """In every path and month: stock(t) = stock(t-1) + arrivals - exits, whatever the levers."""
    fitted = _TOY_FIT
    months = pd.period_range("2025-01", periods=14, freq="M")
    knobs = Knobs(inflow_factor=inflow, housing_supply_factor=supply, long_stay_exit_factor=1.5)
    limits = np.r_[np.full(7, 120.0), np.full(7, 90.0)]
    s = simulate(fitted.rates, fitted.state, months, limits, paths=20, seed=seed, knobs=knobs).series
    stock = np.c_[np.full(20, fitted.state.shelter.sum()), s["shelter_stock"]]
    assert np.array_equal(np.diff(stock, axis=1), s["arrivals_new"] + s["arrivals_returning"] - s["exits"])
    assert (s["exits_housing"] <= s["housing_demand"]).all()
    assert (s["nights_110_reimbursable"] <= s["nights_110"] + 1e-9).all()


def _cut_to(tables: dict[str, pd.DataFrame], month: pd.Period) -> dict[str, pd.DataFrame]:
    """The frames as they looked at the end of ``month`` (data contract §4): the reference
    that ``History.cut`` must reproduce on arrays."""
    last, stop = month_end(month), day_after(month)
    spans = {"episodes": ("start", "end"), "tenancies": ("moved_in", "moved_out"), "support": ("start", "end")}
    out = {}
    for name, (begin, end) in spans.items():
        df = tables[name][tables[name][begin] <= last].copy()
        later = df[end] > last
        df.loc[later, end] = pd.NaT
        if name == "episodes":
            df.loc[later, "discharge_category"] = pd.NA
            df["nights"] = (df["end"].fillna(stop).clip(upper=stop) - df["start"]).dt.days.clip(lower=1)
        out[name] = df
    return out


def _assert_same_fit(a, b):
    for part in ("rates", "state"):
        for f in fields(getattr(a, part)):
            x, y = np.asarray(getattr(getattr(a, part), f.name)), np.asarray(getattr(getattr(b, part), f.name))
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), f"{part}.{f.name}"


@pytest.mark.parametrize("at", ["2021-06", "2023-11", "2024-12"])
def test_cut_history_fits_as_the_cut_tables(at):
    """The backtest cuts one array history per origin; the fit must equal a fit on the cut frames."""
    month, params = pd.Period(at, freq="M"), load_params()
    # nights of the union of stays can be fewer than the span; the cut recounts them from the span
    tables = {**_TOY, "episodes": _TOY["episodes"].assign(nights=(_TOY["episodes"]["nights"] + 1) // 2)}
    history = History.from_tables(tables["episodes"], tables["tenancies"], tables["support"], params)
    cut = _cut_to(tables, month)
    _assert_same_fit(fit_history(history.cut(month), month, params),
                     fit(cut["episodes"], cut["tenancies"], cut["support"], month, params))


def test_grouped_binomial_draws_in_p_then_n_order():
    """Same draws as a plain binomial over the non-empty cells sorted by p, then n (capped), then position."""
    rng = np.random.default_rng(0)
    n = rng.poisson(2.0, (50, 3, 7)) * rng.integers(0, 2, (50, 3, 7))
    p = np.round(rng.random((3, 7)), 1)
    draws = _GroupedBinomial(p, n.shape)(np.random.default_rng(1), n)
    flat, probs = n.reshape(-1), np.tile(p.reshape(-1), 50)
    cap = 32767 // len(np.unique(p)) - 1
    cells = np.flatnonzero(flat)
    cells = cells[np.lexsort((cells, np.minimum(flat[cells], cap), probs[cells]))]
    expected = np.zeros(flat.shape, dtype=np.int64)
    expected[cells] = np.random.default_rng(1).binomial(flat[cells], probs[cells])
    assert np.array_equal(draws.reshape(-1), expected)
