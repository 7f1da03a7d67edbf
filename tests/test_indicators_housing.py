"""Spor 1 builders on hand-made dwellings and tenancies (answers worked out by hand)."""
import pandas as pd

from analysis.indicators import housing
from analysis.indicators.common import value_of as value
from analysis.params import load_params

T = pd.Timestamp
M = pd.Period("2023-02", "M")
P = load_params(overrides={"definitions.history_months": 14})


def dwellings():
    return pd.DataFrame({
        "dwelling_id": list("abcdef"),
        "received": [T("2023-01-03"), T("2023-01-31"), T("2023-02-01"), T("2022-01-15"), T("2022-02-28"), T("2022-03-01")],
        "rent": [4500.0, 5000.0, 5000.01, 4499.99, 4800.0, 5900.0],
        "subsidy_scheme": ["ingen", "ingen", "midlertidigt_statsligt", "ingen", "permanent", "permanent"],
    })


def test_rent_band_edges_are_closed_middle_band():
    bands = housing.rent_band(pd.Series([4499.99, 4500.0, 5000.0, 5000.01]), P)
    assert bands.tolist() == ["rent_lt_4500", "rent_4500_5000", "rent_4500_5000", "rent_gt_5000"]


def test_dwellings_received_by_month_year_and_year_to_date():
    out = housing.dwellings_received(dwellings(), M, P)
    assert value(out, "dwellings_received", "2023-01", "rent_4500_5000") == 2
    assert value(out, "dwellings_received", "2023-02", "rent_gt_5000") == 1
    assert value(out, "dwellings_received", "2023-02", "rent_4500_5000") == 0
    assert value(out, "dwellings_received", "2022", "rent_lt_4500") == 1
    assert value(out, "dwellings_received", "2022", "rent_4500_5000") == 1
    assert value(out, "dwellings_received", "2022") == 3
    assert value(out, "dwellings_received", "2023") == 3
    # same period last year: 1 January–28 February 2022
    assert value(out, "dwellings_received_ytd", "2022-02") == 2
    assert value(out, "dwellings_received_ytd", "2023-02", "rent_4500_5000") == 2
    assert set(out.period) >= {"2022-01", "2023-02", "2022", "2023"} and "2021-12" not in set(out.period)


def test_subsidised_dwellings_allocated_is_cumulative_move_ins():
    ten = pd.DataFrame({
        "moved_in": [T("2023-01-10"), T("2023-02-28"), pd.NaT, T("2022-12-01")],
        "subsidy_scheme": ["midlertidigt_statsligt", "midlertidigt_statsligt", "midlertidigt_statsligt", "ingen"],
    })
    out = housing.subsidised_dwellings_allocated(ten, M, P)
    assert [value(out, "subsidised_dwellings_allocated", p) for p in ("2022-12", "2023-01", "2023-02")] == [0, 1, 2]


def test_permanent_subsidy_rent_before_and_after_reduction():
    out = housing.permanent_subsidy(dwellings(), M, P)
    assert value(out, "permanent_subsidy_dwellings", "2022-02") == 1
    assert value(out, "permanent_subsidy_dwellings", "2023-02") == 2
    assert value(out, "permanent_subsidy_rent_median", "2023-02", "before_reduction") == 5350.0
    assert value(out, "permanent_subsidy_rent_median", "2023-02", "after_reduction") == 4450.0
    assert value(out, "permanent_subsidy_above_ceiling", "2023-02") == 0  # 5900 − 900 = 5000 is at the ceiling
    assert pd.isna(value(out, "permanent_subsidy_rent_median", "2022-01", "before_reduction"))
