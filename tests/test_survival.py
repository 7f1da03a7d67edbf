"""analysis.retention.survival against hand-computed answers and against lifelines, the reference it replaces at run time."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

from analysis.retention import retention as r
from analysis.retention import survival as sv

Z = 1.959963984540054

# Six subjects: ties at 3 (two events and a censoring), censored at 5, the last one dies at 6.
DURATIONS = [2.0, 3.0, 3.0, 3.0, 5.0, 6.0]
EVENTS = [True, True, True, False, False, True]


def greenwood_band(s: float, var: float) -> tuple[float, float]:
    """Exponential Greenwood by hand (log(−log) scale): S ** exp(±z·√var / −ln S)."""
    spread = Z * math.sqrt(var) / -math.log(s)
    return (s ** math.exp(spread), s ** math.exp(-spread))


def test_km_on_six_subjects_by_hand():
    km = sv.kaplan_meier(DURATIONS, EVENTS)
    # t:        0  2    3 (6 → 5 at risk, 2 die)  5 (2 at risk)  6 (1 at risk, dies)
    assert km.timeline.tolist() == [0.0, 2.0, 3.0, 5.0, 6.0]
    assert km.at_risk.tolist() == [6, 6, 5, 2, 1] and km.at_risk.dtype == "int64"
    assert km.survival.tolist() == pytest.approx([1, 5 / 6, 5 / 6 * 3 / 5, 1 / 2, 0], abs=1e-15)
    # Greenwood sums Σ d/(n(n−d)): 1/30 at 2; 1/30 + 2/(5·3) = 1/6 at 3 and 5; at 6 (d = n) lifelines adds nothing.
    # At 3: S = 1/2, z√(1/6)/ln 2 = 1.15438, so lower = 0.5^e^1.15438 = 0.5^3.1720 = 0.11095
    # and upper = 0.5^e^−1.15438 = 0.5^0.31526 = 0.80371.
    lower, upper = greenwood_band(1 / 2, 1 / 6)
    assert (lower, upper) == pytest.approx((0.11094826, 0.80370924), abs=1e-8)
    assert km.lower.tolist() == pytest.approx([1.0, greenwood_band(5 / 6, 1 / 30)[0], lower, lower, 0.0], abs=1e-12)
    assert km.upper.tolist() == pytest.approx([1.0, greenwood_band(5 / 6, 1 / 30)[1], upper, upper, 0.0], abs=1e-12)
    # Lookups: the last step at or before t; at risk = duration ≥ t.
    assert km.value_at(3.5) == pytest.approx((1 / 2, lower, upper), abs=1e-12)
    assert km.value_at(2.99)[0] == pytest.approx(5 / 6) and km.value_at(99)[0] == 0.0
    assert all(np.isnan(km.value_at(-0.5)))
    assert [km.at_risk_at(t) for t in (0, 3, 3.5, 6, 6.01, np.nan)] == [6, 5, 2, 1, 0, 0]


def test_logrank_by_hand():
    # a dies at 1 and 2, b at 3 and 4. E_a = 2/4 + 1/3, var = 2·2·3/(16·3) + 1·2·2/(9·2) = 17/36,
    # U = (2 − 5/6)² / (17/36) = 49/17 with 1 degree of freedom: p = erfc(√(U/2)).
    p = sv.logrank_p([1, 2, 3, 4], ["a", "a", "b", "b"], [True] * 4)
    assert p == pytest.approx(math.erfc(math.sqrt(49 / 34)), rel=1e-12)


def test_empty_and_invalid_input():
    km = sv.kaplan_meier([], [])
    assert km.timeline.size == km.survival.size == km.at_risk.size == 0
    assert km.at_risk_at(0) == 0 and all(np.isnan(km.value_at(0)))
    with pytest.raises(ValueError, match="NaN"):
        sv.kaplan_meier([1.0, np.nan], [True, False])
    with pytest.raises(ValueError, match="one length"):
        sv.kaplan_meier([1.0, 2.0], [True])
    with pytest.raises(ValueError, match="events"):
        sv.kaplan_meier([1.0, 2.0], [1.0, np.nan])
    with pytest.raises(ValueError, match="missing group"):
        sv.logrank_p([1.0, 2.0, 3.0], ["a", None, "b"], [True] * 3)
    with pytest.raises(ValueError, match="two groups"):
        sv.logrank_p([1.0, 2.0], ["a", "a"], [True] * 2)


def test_error_messages_say_what_is_wrong():
    with pytest.raises(ValueError) as info:
        sv.kaplan_meier([1.0, np.nan, np.inf], [True, False, True])
    assert str(info.value) == "2 durations are NaN or infinite; every subject needs a time"
    with pytest.raises(ValueError) as info:
        sv.kaplan_meier([1.0, 2.0], [1.0, np.nan])
    assert str(info.value) == "events must be booleans or 0/1 (a missing event is not allowed)"
    with pytest.raises(ValueError) as info:
        sv.logrank_p([1.0, 2.0, 3.0], ["a", "b"], [True] * 3)
    assert str(info.value) == "3 durations but 2 group labels"
    with pytest.raises(ValueError) as info:
        sv.logrank_p([1.0, 2.0, 3.0], ["a", None, "b"], [True] * 3)
    assert str(info.value) == "missing group labels: drop those subjects or give them a group"
    with pytest.raises(ValueError) as info:
        sv.logrank_p([1.0, 2.0], ["a", "a"], [True] * 2)
    assert str(info.value) == "the log-rank test needs at least two groups"
    assert sv.kaplan_meier([], []).at_risk.dtype == "int64"


def test_everyone_left_dying_and_one_subject_left_raise_no_warnings():
    import warnings

    # 0/0 and d/(n(n−d)) with d = n are expected and handled, not warned about (lifelines, imported above,
    # switches NumPy's warnings off for the whole process: they are switched on again here)
    with warnings.catch_warnings(), np.errstate(all="warn"):
        warnings.simplefilter("error")
        km = sv.kaplan_meier([1.0, 2.0, 2.0], [True, True, True])
        p = sv.logrank_p([1.0, 2.0, 3.0, 4.0], ["a", "b", "a", "b"], [True] * 4)
        censored_last = sv.logrank_p([1.0, 2.0, 3.0, 4.0], ["a", "b", "a", "b"], [True, True, True, False])
    assert km.survival.tolist() == pytest.approx([1.0, 2 / 3, 0.0]) and 0 < p < 1 and 0 < censored_last < 1


def test_a_group_without_tenancies_has_no_curve():
    data = pd.DataFrame({"duration": [3.0, 6.0], "event": [True, False], "support_method": ["CTI", "CTI"]})
    curve = r.fit_curves(data, "support_method", r.METHODS)["ACT"]
    assert curve.n == 0 and curve.at_risk(0) == 0 and all(np.isnan(curve.at(0)))
    assert set(r.curve_table(r.fit_curves(data, "support_method", r.METHODS), 1)["group"]) == {"", "CTI"}


# ------------------------------------------------------------------ against lifelines

integer_times = st.integers(0, 6).map(float)                        # heavy ties, 0 included
fractional_times = st.integers(0, 120).map(lambda k: k / 8)          # quarter-ish months, some ties
free_times = st.floats(0, 40, allow_nan=False, allow_infinity=False)  # almost no ties
negative_times = st.integers(-4, 4).map(lambda k: k / 2)             # lifelines then starts at the earliest time


@st.composite
def samples(draw, min_size: int = 1) -> tuple[list[float], list[bool]]:
    times = draw(st.sampled_from([integer_times, fractional_times, free_times, negative_times]))
    durations = draw(st.lists(times, min_size=min_size, max_size=40))
    events = draw(st.sampled_from(["mixed", "all", "none"]))
    if events == "mixed":
        flags = draw(st.lists(st.booleans(), min_size=len(durations), max_size=len(durations)))
    else:
        flags = [events == "all"] * len(durations)
    return durations, flags


def close(mine: np.ndarray, theirs: np.ndarray) -> None:
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12, equal_nan=True)


@settings(max_examples=150, deadline=None)
@given(samples())
def test_kaplan_meier_equals_lifelines(sample):
    durations, events = sample
    km = sv.kaplan_meier(durations, events)
    ref = KaplanMeierFitter().fit(durations, events)
    sf, band = ref.survival_function_, ref.confidence_interval_survival_function_
    assert km.timeline.tolist() == sf.index.tolist()
    close(km.survival, sf.iloc[:, 0].to_numpy())
    close(km.lower, band.iloc[:, 0].to_numpy())
    close(km.upper, band.iloc[:, 1].to_numpy())
    assert km.at_risk.tolist() == ref.event_table["at_risk"].reindex(sf.index).tolist()
    grid = np.unique(np.r_[km.timeline, km.timeline + 0.1, km.timeline[-1] + 5])
    for t in grid:
        s, lo, hi = km.value_at(t)
        ref_band = band.loc[:t].iloc[-1]
        close(np.array([s, lo, hi]), np.array([ref.survival_function_at_times(t).iloc[0], *ref_band]))
        assert km.at_risk_at(t) == int((np.asarray(durations) >= t).sum())


@st.composite
def grouped(draw) -> tuple[list[float], list[str], list[bool]]:
    durations, events = draw(samples(min_size=2))
    labels = [f"g{i}" for i in range(draw(st.integers(2, min(5, len(durations)))))]
    # Every label at least once, the rest at random (so groups of one subject are common), in random order.
    rest = draw(st.lists(st.sampled_from(labels), min_size=len(durations) - len(labels),
                         max_size=len(durations) - len(labels)))
    groups = draw(st.permutations(labels + rest))
    if draw(st.booleans()):  # and sometimes a group whose single subject has a time of its own
        durations, events, groups = [*durations, draw(fractional_times)], [*events, draw(st.booleans())], [*groups, "solo"]
    return durations, list(groups), events


@settings(max_examples=100, deadline=None)
@given(grouped())
def test_logrank_equals_lifelines(sample):
    durations, groups, events = sample
    mine = sv.logrank_p(durations, groups, events)
    theirs = float(multivariate_logrank_test(durations, groups, events).p_value)
    assert mine == pytest.approx(theirs, rel=1e-10, abs=0) or (np.isnan(mine) and np.isnan(theirs))


def test_value_at_an_event_time_includes_that_times_step():
    """Reading the curve at a duration gives the step taken at that duration (by hand: 4 at risk, one dies at 1,
    two of the three left die at 2), just before it the previous step, before the timeline nothing."""
    from analysis.retention.survival import kaplan_meier

    km = kaplan_meier(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1, 1, 1, 0]))
    assert km.value_at(0)[0] == 1.0
    assert km.value_at(1)[0] == pytest.approx(3 / 4) and km.value_at(1.999)[0] == pytest.approx(3 / 4)
    assert km.value_at(2)[0] == pytest.approx(3 / 4 * 1 / 3)
    assert km.value_at(3)[0] == pytest.approx(1 / 4)  # a censoring: no step
    assert all(np.isnan(km.value_at(-0.5)))
