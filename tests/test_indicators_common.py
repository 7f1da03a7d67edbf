"""Counting building blocks: the fast counts agree with a plain pandas reference, zeros and missing values included."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.indicators.common import counts, month_keys, rolling_counts, stock, year_start

M = [pd.Period("2023-01", "M"), pd.Period("2023-02", "M"), pd.Period("2023-03", "M")]


def _events(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    dates = pd.Series(pd.Timestamp("2022-12-01") + pd.to_timedelta(rng.integers(0, 150, n), unit="D"))
    dates[::11] = pd.NaT
    labels = pd.Series(rng.choice(["a", "b", "c", None], n), dtype=object)
    return pd.DataFrame({"date": dates, "label": labels})


def test_month_keys_format_each_month_and_keep_nat_missing():
    dates = pd.Series(pd.to_datetime(["2023-01-31", None, "1969-12-01", "2023-01-01"]), index=[7, 8, 9, 10], name="d")
    pd.testing.assert_series_equal(month_keys(dates), dates.dt.strftime("%Y-%m"))


def test_counts_match_value_counts_with_zeros_and_repeated_breakdowns():
    e = _events()
    keys = month_keys(e["date"])
    periods = ["2023-01", "2023-02", "2024-01"]
    out = counts("x", keys, periods, e["label"], ["a", "b", "a", "none"], total=True)
    for p in periods:
        assert out.loc[(out.period == p) & (out.breakdown == ""), "value"].item() == (keys == p).sum()
    by_label = out[out.breakdown != ""]
    assert by_label.breakdown.tolist() == ["a", "b", "a", "none"] * 3
    for row in by_label.itertuples():
        assert row.value == ((keys == row.period) & (e["label"] == row.breakdown)).sum()


def test_rolling_counts_are_windows_of_events():
    e = _events()
    out = rolling_counts("x", e["date"], M, year_start, e["label"], ["a", "c"], total=True)
    for m in M:
        inside = (e["date"] >= year_start(m)) & (e["date"] <= m.end_time.normalize())
        got = out[out.period == str(m)].set_index("breakdown")["value"]
        assert got.to_dict() == {"": inside.sum(), "a": (inside & (e["label"] == "a")).sum(),
                                 "c": (inside & (e["label"] == "c")).sum()}


def test_stock_sums_weights_of_open_things_and_skips_missing_weights():
    start = pd.Series(pd.to_datetime(["2022-12-01", "2023-01-15", "2023-02-01", "2023-02-10"]))
    end = pd.Series(pd.to_datetime([None, "2023-02-28", "2023-02-01", None]))
    weights = pd.Series([2.0, 3.0, 5.0, np.nan])
    out = stock("x", start, end, M, pd.Series(["p", "q", "p", "p"]), ["p", "q"], weights)
    got = {(r.period, r.breakdown): r.value for r in out.itertuples()}
    assert got[("2023-01", "")] == 5.0 and got[("2023-01", "q")] == 3.0
    assert got[("2023-02", "")] == 2.0 and got[("2023-02", "p")] == 2.0  # open until 28 Feb is not open at its end
    assert got[("2023-03", "q")] == 0.0
