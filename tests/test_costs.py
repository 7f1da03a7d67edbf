"""Reimbursement rules of lov nr. 482/2023, hand-computed at the 120/90-day edges."""
import json
from collections import deque

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.forecast.costs import cost_table, day_limits, limit_on, reimbursed_nights, shelter_nights
from analysis.params import load_params

P = load_params()


def reimbursed_days(days: np.ndarray, params) -> np.ndarray:
    """The rule walked night by night for one person: the reference ``reimbursed_nights`` is checked against."""
    steps = [(np.datetime64(s.date(), "D"), d) for s, d in day_limits(params)]
    start = np.datetime64(pd.Timestamp(params["reimbursement.new_rules_from"]).date(), "D")
    out = np.zeros(len(days), dtype=bool)
    window: deque[np.datetime64] = deque()
    one_year = np.timedelta64(365, "D")
    for i, day in enumerate(days):
        if day < start:
            continue
        while window and window[0] <= day - one_year:
            window.popleft()
        limit = next((d for s, d in reversed(steps) if day >= s), np.inf)
        if len(window) < limit:
            window.append(day)
            out[i] = True
    return out


def _stay(start: str, nights: int) -> np.ndarray:
    return np.arange(np.datetime64(start), np.datetime64(start) + nights)


def _reimbursed(*stays: tuple[str, int]) -> int:
    days = np.unique(np.concatenate([_stay(s, n) for s, n in stays]))
    return int(reimbursed_nights(np.zeros(len(days), dtype=int), days, P).sum())


def test_limit_schedule():
    assert limit_on(pd.Timestamp("2023-09-30"), P) == np.inf
    assert limit_on(pd.Timestamp("2023-10-01"), P) == 120
    assert limit_on(pd.Timestamp("2026-03-31"), P) == 120
    assert limit_on(pd.Timestamp("2026-04-01"), P) == 90


@pytest.mark.parametrize("nights, expected", [(119, 119), (120, 120), (121, 120), (200, 120)])
def test_120_day_edge(nights, expected):
    assert _reimbursed(("2024-01-01", nights)) == expected


def test_nights_before_new_rules_do_not_count():
    # 2023-09-01 .. : the 30 September nights are outside the new rule; 120 from 1 October
    days = _stay("2023-09-01", 200)
    flags = reimbursed_nights(np.zeros(len(days), dtype=int), days, P)
    assert not flags[:30].any()
    assert flags[30:150].all() and not flags[150:].any()


def test_running_year_slides():
    # a continuous stay gets nights 1-120 and again 366-485
    assert _reimbursed(("2024-01-01", 500)) == 240
    # two stays in one running year share the limit: 100 + 20
    assert _reimbursed(("2024-01-01", 100), ("2024-06-01", 50)) == 120
    # a second stay more than a year after the first nights starts afresh
    assert _reimbursed(("2024-01-01", 100), ("2025-02-01", 50)) == 150


def test_across_1_april_2026():
    # Jan-Mar 2026 = 90 nights, all within 120; from 1 April the limit is 90 and the window is full
    assert _reimbursed(("2026-01-01", 200)) == 90
    # from 1 December 2025 the 120 are used up on 30 March; nothing more after 1 April
    assert _reimbursed(("2025-12-01", 200)) == 120
    # March 2026 (31 nights under the 120 rule), then 59 more under the 90 rule
    assert _reimbursed(("2026-03-01", 150)) == 90
    # from 1 April 2026 onwards only 90
    assert _reimbursed(("2026-04-01", 91)) == 90
    assert _reimbursed(("2026-04-01", 90)) == 90


def test_shelter_nights_per_year_union_of_episodes():
    ep = pd.DataFrame({
        "person_id": ["a", "a", "b"],
        "start": pd.to_datetime(["2023-12-01", "2023-12-20", "2024-03-01"]),
        "end": pd.to_datetime(["2024-01-10", "2024-05-31", None]),
    })
    t = shelter_nights(ep, pd.Period("2024-06", freq="M"), P)
    # a: 2023-12-01 .. 2024-05-30 = 182 nights (31 in 2023); b: 2024-03-01 .. 2024-06-30 = 122
    assert t.loc[2023, "nights_110"] == 31
    assert t.loc[2024, "nights_110"] == 151 + 122
    assert t.loc[2024, "nights_110_reimbursable"] == 120 - 31 + 120


def test_cost_table_hand_computed():
    vol = pd.DataFrame({
        "nights_110": [1000.0], "nights_110_after": [1000.0], "nights_110_reimbursable": [600.0],
        "days_107": [100.0], "days_107_after": [100.0], "days_107_reimbursable": [50.0],
        "support_months": [10.0], "support_months_after": [10.0], "support_months_reimbursable": [10.0],
    }, index=pd.Index([2027], name="year"))
    t = cost_table(vol, P).set_index("area")
    rate110 = P["day_rates.shelter_110_per_night"]
    assert t.loc["110", "gross"] == 1000 * rate110
    assert t.loc["110", "net_old"] == 0.5 * 1000 * rate110
    assert t.loc["110", "net_new"] == 1000 * rate110 - 0.5 * 600 * rate110
    assert t.loc["110", "extra_cost"] == pytest.approx(0.5 * 400 * rate110)
    assert t.loc["107", "extra_cost"] == pytest.approx(-0.5 * 50 * P["day_rates.s107_per_day"])
    hf = np.mean([P["day_rates.support_per_month"][m] for m in ("CTI", "ICM", "ACT")])
    assert t.loc["85a", "extra_cost"] == pytest.approx(-0.5 * 10 * hf)


def _nights_by_hand(ep: pd.DataFrame, month: pd.Period, params) -> pd.DataFrame:
    """Night by night: each person's union of nights, counted per year, the running year walked by ``reimbursed_days``."""
    stop = np.datetime64(month.end_time.date()) + 1
    in_force = np.datetime64(pd.Timestamp(params["reimbursement.new_rules_from"]).date())
    rows = []
    for _, e in ep.groupby("person_id"):
        nights = [np.arange(s, min(max(x, s + 1), stop)) for s, x in
                  zip(e["start"].to_numpy("datetime64[D]"), e["end"].fillna(pd.Timestamp(stop)).to_numpy("datetime64[D]"))]
        days = np.unique(np.concatenate(nights))
        rows.append(pd.DataFrame({"year": days.astype("datetime64[Y]").astype(int) + 1970, "after": days >= in_force,
                                  "reimbursable": reimbursed_days(days, params)}))
    nights = pd.concat(rows)
    table = nights.groupby("year").agg(nights_110=("after", "size"), nights_110_after=("after", "sum"),
                                       nights_110_reimbursable=("reimbursable", "sum")).astype(float)
    table.index = table.index.astype(np.int32)
    return table


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 1500), st.one_of(st.none(), st.integers(-2, 400))),
                min_size=1, max_size=25),
       st.sampled_from(["2023-06", "2024-06", "2026-05"]))
def test_shelter_nights_match_night_by_night(stays, month):
    """Runs of the union of nights and the jumping walk give the night-by-night counts."""
    base = pd.Timestamp("2022-09-01")
    ep = pd.DataFrame({
        "person_id": [p for p, _, _ in stays],
        "start": [base + pd.Timedelta(days=s) for _, s, _ in stays],
        "end": [pd.NaT if n is None else base + pd.Timedelta(days=s + n) for _, s, n in stays],
    })
    month = pd.Period(month, freq="M")
    ep = ep[ep["start"] <= month.end_time]
    if ep.empty:
        return
    expected = _nights_by_hand(ep, month, P)
    got = shelter_nights(ep, month, P)
    pd.testing.assert_frame_equal(got, expected.reindex(got.index), check_exact=True, check_names=False)
    assert got.index.tolist() == expected.index.tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 1200), min_size=1, max_size=600), min_size=1, max_size=4),
       st.lists(st.integers(0, 200), min_size=1, max_size=4))
def test_reimbursed_by_person_is_the_walk_per_person(people, limits):
    """Any limit schedule (rising or falling): many persons at once equal the per-person walk."""
    schedule = [{"from": str(pd.Timestamp("2023-10-01") + pd.Timedelta(days=150 * i))[:10], "days": d} for i, d in enumerate(limits)]
    params = load_params(overrides=[f"reimbursement.shelter_day_limits={json.dumps(schedule)}"])
    days = [np.unique(np.datetime64("2023-10-01") + np.array(p)) for p in people]
    person = np.repeat(np.arange(len(days)), [len(d) for d in days])
    flags = reimbursed_nights(person, np.concatenate(days), params)
    for i, d in enumerate(days):
        assert np.array_equal(flags[person == i], reimbursed_days(d, params))
