"""The state rent-subsidy schedule month by month, and the step-down projection."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.retention import subsidy as s
from analysis.params import load_params

P = load_params()

# Hand-computed full monthly amount (15.000 kr. x index / 12) per calendar year, index from the parameter files (50_payment.yml);
# after 2026 the index grows 2 % a year from 1,162.
FULL = {
    2023: 15000 * 1.076 / 12,              # 1.345,00
    2024: 15000 * 1.106 / 12,              # 1.382,50
    2025: 15000 * 1.134 / 12,              # 1.417,50
    2026: 15000 * 1.162 / 12,              # 1.452,50
    2027: 15000 * 1.162 * 1.02 / 12,       # 1.481,55
    2028: 15000 * 1.162 * 1.02**2 / 12,
    2029: 15000 * 1.162 * 1.02**3 / 12,
    2030: 15000 * 1.162 * 1.02**4 / 12,
    2031: 15000 * 1.162 * 1.02**5 / 12,
    2032: 15000 * 1.162 * 1.02**6 / 12,
}


def expected_share(month: pd.Period, reading: str) -> float:
    """Move-in 1 March 2023: subsidy years run March-February."""
    year_no = (month - pd.Period("2023-03", freq="M")).n // 12 + 1
    fifths = {1: 1, 2: 1, 3: 1, 4: 1, 5: 4 / 5, 6: 3 / 5, 7: 2 / 5, 8: 1 / 5, 9: 0}
    sixths = {1: 1, 2: 1, 3: 1, 4: 1, 5: 5 / 6, 6: 4 / 6, 7: 3 / 6, 8: 2 / 6, 9: 1 / 6}
    return (fifths if reading == "zero_in_final_year" else sixths)[year_no]


@pytest.mark.parametrize("reading", s.READINGS)
def test_schedule_move_in_1_march_2023_month_by_month(reading):
    params = load_params(overrides={"state_subsidy.stepdown_reading": reading})
    sched = s.schedule(pd.Timestamp("2023-03-01"), params)
    assert len(sched) == 108
    assert sched["month"].iloc[0] == "2023-03" and sched["month"].iloc[-1] == "2032-02"
    for row in sched.itertuples():
        month = pd.Period(row.month, freq="M")
        assert row.amount == pytest.approx(FULL[month.year] * expected_share(month, reading)), row.month


def test_schedule_spot_values_default_reading():
    sched = s.schedule(pd.Timestamp("2023-03-01"), P).set_index("month")["amount"]
    assert sched["2023-03"] == pytest.approx(1345.00)
    assert sched["2024-02"] == pytest.approx(1382.50)      # still year 1, new price level
    assert sched["2027-02"] == pytest.approx(1481.55)      # last month of year 4
    assert sched["2027-03"] == pytest.approx(1185.24)      # year 5: 4/5 of 1.481,55
    assert sched["2031-02"] == pytest.approx(0.2 * 15000 * 1.162 * 1.02**5 / 12)
    assert sched["2031-03"] == 0.0                         # year 9 pays nothing under this reading


def test_subsidy_starts_when_scheme_became_usable():
    sched = s.schedule(pd.Timestamp("2022-11-15"), P)
    assert sched["month"].iloc[0] == "2023-03"


def test_share_in_month_per_tenant():
    moved_in = pd.Series(pd.to_datetime(["2022-11-15", "2023-03-01", "2024-07-31", None]), index=[10, 11, 12, 13])
    # March 2027: year 5 for the first two (the first counts from March 2023, when the scheme became usable).
    got = s.share_in_month(moved_in, pd.Period("2027-03", freq="M"), P)
    assert got.index.tolist() == [10, 11, 12, 13] and got.dtype == "float64"
    assert got.iloc[:3].tolist() == pytest.approx([0.8, 0.8, 1.0]) and np.isnan(got.iloc[3])
    # June 2024: year 2 for the first two, and before the first subsidy month of the third.
    assert s.share_in_month(moved_in, pd.Period("2024-06", freq="M"), P).iloc[:3].tolist() == [1.0, 1.0, 0.0]
    # Year 9 pays nothing under the default reading, and nothing is paid after the last year.
    assert s.share_in_month(moved_in.iloc[:2], pd.Period("2031-03", freq="M"), P).tolist() == [0.0, 0.0]
    assert s.share_in_month(moved_in.iloc[:2], pd.Period("2040-01", freq="M"), P).tolist() == [0.0, 0.0]
    assert s.share_in_month(moved_in.iloc[:0], pd.Period("2027-03", freq="M"), P).empty


def test_unknown_reading_is_an_error():
    params = load_params(overrides={"state_subsidy.stepdown_reading": "thirds"})
    with pytest.raises(ValueError, match="stepdown_reading"):
        s.subsidy_share(5, params)


def test_projection_counts_tenants_below_norm_year_by_year():
    # Net 6.000 + benefit 500 - rent 4.000 - utilities 0 = 2.500 without subsidy; with the full subsidy
    # at 2024 prices (1.382,50) the tenant has 3.882,50 < 4.000 - already below the norm.
    # A second tenant has 1.500 more income: 5.382,50 now; falls below once the subsidy share drops under 0.9154.
    tenancies = pd.DataFrame({
        "allocation_id": ["a1", "a2", "a3"], "person_id": ["p1", "p2", "p3"],
        "moved_in": pd.to_datetime(["2023-03-01", "2023-03-01", "2023-03-01"]),
        "moved_out": pd.to_datetime([None, None, "2023-12-31"]),
        "subsidy_scheme": s.STATE_SCHEME, "rent": 4000.0, "utilities": 0.0,
    })
    income = pd.DataFrame({"person_id": ["p1", "p2"], "month": "2024-06",
                           "net_income": [6000.0, 7500.0], "housing_benefit": [500.0, 500.0]})
    proj = s.projection(tenancies, income, pd.Period("2024-06", freq="M"), P)
    flat = proj[proj["scenario"] == "growth_0pct"].set_index("year")
    assert flat.loc["2024", "tenants"] == 2           # the one who moved out is not a current tenant
    assert flat.loc["2024", "below_norm"] == 1
    # June 2027 is subsidy year 5 (4/5): 7.500 + 500 - 4.000 + 0,8 x 1.382,50 = 5.106 -> still sufficient;
    # June 2028 (3/5): 4.829,50 -> sufficient; June 2031 (0): 4.000 exactly -> sufficient (at the norm).
    assert flat.loc["2027", "below_norm"] == 1
    assert flat.loc["2031", "below_norm"] == 1
    grow = proj[proj["scenario"] == "growth_2pct"].set_index("year")
    assert grow.loc["2033", "share_below_norm"] <= flat.loc["2033", "share_below_norm"]
    # The median disposable amount falls with the step-down even though nobody crosses the norm:
    # 2024 (full subsidy): (3.882,50 + 5.382,50) / 2 = 4.632,50; 2031 (none): (2.500 + 4.000) / 2 = 3.250.
    assert flat.loc["2024", "disposable_median"] == pytest.approx(4632.5)
    assert flat.loc["2031", "disposable_median"] == pytest.approx(3250.0)
    rows = s.subsidy_indicators(tenancies, income, pd.Period("2024-06", freq="M"), P)
    assert set(rows["indicator"]) == {"subsidy_tenants", "subsidy_projection_base", "subsidy_projection_below_norm",
                                      "subsidy_projection_below_norm_share", "subsidy_projection_disposable_median",
                                      "state_subsidy_full_monthly"}


def test_yearly_view_of_the_schedule():
    year = s.yearly(s.schedule(pd.Timestamp("2023-03-01"), P)).set_index("subsidy_year")
    assert year.loc[1, "first_month"] == "2023-03"
    assert year.loc[1, "amount"] == pytest.approx(10 * 1345.00 + 2 * 1382.50)  # March-December 2023 + Jan-Feb 2024
    assert year.loc[5, "share"] == pytest.approx(0.8)
