"""Stocks and flows reconcile month by month, for any set of spells (property test)."""
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.forecast.flows import _counts_by_month, arrival_kind, reconciles, spell_flows

MONTHS = pd.period_range("2022-01", "2023-12", freq="M")
BASE = pd.Timestamp("2021-06-01")


@st.composite
def spells(draw):
    n = draw(st.integers(0, 40))
    starts = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
    lengths = draw(st.lists(st.one_of(st.none(), st.integers(0, 400)), min_size=n, max_size=n))
    start = pd.Series([BASE + pd.Timedelta(days=s) for s in starts], dtype="datetime64[ns]")
    end = pd.Series([pd.NaT if ln is None else BASE + pd.Timedelta(days=s + ln) for s, ln in zip(starts, lengths)],
                    dtype="datetime64[ns]")
    return start, end


@settings(max_examples=150, deadline=None)
@given(spells())
def test_stock_follows_from_flows(data):
    start, end = data
    flows = spell_flows(start, end, MONTHS)
    assert reconciles(flows).all()
    # and the stock is the direct count of spells open at each month end
    for period, row in flows.iloc[::5].iterrows():
        day = pd.Period(period, freq="M").end_time.normalize()
        direct = ((start <= day) & (end.isna() | (end > day))).sum()
        assert row["stock"] == direct


def test_spell_ending_on_month_end_leaves_that_month():
    start = pd.Series(pd.to_datetime(["2022-01-10"]))
    end = pd.Series(pd.to_datetime(["2022-01-31"]))
    flows = spell_flows(start, end, MONTHS[:2])
    assert flows["inflow"].tolist() == [1, 0]
    assert flows["outflow"].tolist() == [1, 0]
    assert flows["stock"].tolist() == [0, 0]


def test_arrival_kind_uses_lookback():
    ep = pd.DataFrame({
        "person_id": ["a", "a", "a", "b"],
        "start": pd.to_datetime(["2020-01-01", "2020-06-01", "2023-01-01", "2020-03-01"]),
        "end": pd.to_datetime(["2020-02-01", "2020-07-01", None, None]),
    })
    assert arrival_kind(ep, 24).tolist() == ["new", "returning", "new", "new"]
    assert np.all(arrival_kind(ep.iloc[::-1], 24).tolist() == ["new", "new", "returning", "new"])


def test_counts_by_month_is_the_crosstab():
    """Arrivals and exits by month: a label column for every label that occurs, even outside the months."""
    dates = pd.Series(pd.to_datetime(["2021-12-05", "2022-01-03", "2022-01-20", "2022-03-01", None, "2024-02-01"]))
    labels = np.array(["new", "returning", "new", "new", "returning", "old"])
    got = _counts_by_month(dates, labels, MONTHS[:4])
    period = pd.PeriodIndex(dates, freq="M").strftime("%Y-%m")
    expected = pd.crosstab(period, labels).reindex(got.index, fill_value=0)
    assert got.columns.tolist() == ["new", "old", "returning"]
    assert np.array_equal(got.to_numpy(), expected.to_numpy())
    assert got["new"].tolist() == [1, 0, 1, 0] and got["old"].sum() == 0
