"""The forecasting code on plain series: loaders, backtest harness, MASE."""
import numpy as np
import pandas as pd
import pytest

from analysis.forecast.backtest import default_origins, littles_law, mase_scale, rolling_backtest
from analysis.forecast.methods import seasonal_naive
from analysis.forecast.realdata import nyc_census, toronto_flows
from analysis.forecast.series import at_origin, fit_flows, project, reconciliation_residual


def test_seasonal_naive_is_exact_on_a_pure_season():
    y = pd.Series(np.tile(np.arange(12.0), 5))
    errors = rolling_backtest(y, {"sn": seasonal_naive(y.to_numpy())}, 12, range(24, 47))
    assert errors["error"].abs().max() == 0


def test_mase_scale():
    assert mase_scale(np.arange(30.0)) == 12.0


def test_flows_are_reconciled_and_the_residual_continues():
    """Stock 100 → 110 each month with inflow 20 and outflow 20: the flows explain 0, so +10 a month
    is the residual; with outflow 10 they explain +10 and the residual is 0."""
    months = pd.date_range("2020-01-01", periods=14, freq="MS")
    y = pd.Series(100.0 + 10 * np.arange(14), index=months)
    assert reconciliation_residual(y, pd.Series(20.0, index=months), pd.Series(20.0, index=months)).tolist() == [10.0] * 13
    assert reconciliation_residual(y, pd.Series(20.0, index=months), pd.Series(10.0, index=months)).tolist() == [0.0] * 13


def test_rates_are_taken_where_they_are_at_the_origin():
    """By hand: stock 100 + 10k (k = 0…13); outflow 10 % of last month's stock, so the exit rate is
    0.1 every month; inflow 20 + 0.1 × last month's stock = 30, 31, …, 42 for k = 1…13, so the flows
    explain +20 a month against +10 seen: residual −10. The last year's inflow (31…42) has mean 36.5
    but stands at 42 at the origin, and the forecast holds it there: 0.9 × 230 + 42 − 10 = 239, then
    0.9 × 239 + 32 = 247.1 (no season in 14 months, so no calendar factors)."""
    months = pd.date_range("2020-01-01", periods=14, freq="MS")
    y = pd.Series(100.0 + 10 * np.arange(14), index=months)
    prev = y.shift(1)
    fit = fit_flows(y, 3.0, (20 + 0.1 * prev).fillna(0), (0.1 * prev).fillna(0))
    assert fit.exit_rate == pytest.approx(0.1) and fit.residual == pytest.approx(-10.0)
    assert fit.level == pytest.approx(42.0)
    np.testing.assert_allclose(project(fit, 230.0, 2), [239.0, 247.1])


def test_the_value_at_the_origin_of_the_fitted_line_by_hand():
    # 0, 2, 1, 3 at t = −3…0: slope 4/5 = 0.8 around (−1.5, 1.5), so 1.5 + 0.8 × 1.5 = 2.7 at t = 0
    assert at_origin(pd.Series([0.0, 2.0, 1.0, 3.0])) == pytest.approx(2.7)
    assert at_origin(pd.Series([5.0, 5.0, 5.0])) == pytest.approx(5.0)
    assert at_origin(pd.Series([4.0])) == 4.0


def test_counts_only_takes_the_stated_stay():
    """A flat stock of 300 with a 3-month stay implies 100 arrivals a month: the projection stays at 300."""
    months = pd.date_range("2020-01-01", periods=13, freq="MS")
    y = pd.Series(300.0, index=months)
    fit = fit_flows(y, 3.0)
    assert fit.exit_rate == pytest.approx(1 / 3) and fit.level == pytest.approx(100.0) and fit.residual == 0
    np.testing.assert_allclose(project(fit, 300.0, 24), 300.0)


def test_counts_only_arrivals_at_the_origin():
    """Stock 300 + 3k with a 3-month stay: arrivals y(k) − ⅔ y(k−1) = 102 + k, so 115 at k = 13
    (the year's mean would be 109.5); the projection then levels off at 3 × 115 = 345."""
    months = pd.date_range("2020-01-01", periods=14, freq="MS")
    fit = fit_flows(pd.Series(300.0 + 3 * np.arange(14), index=months), 3.0)
    assert fit.level == pytest.approx(115.0)
    assert project(fit, 339.0, 60)[-1] == pytest.approx(345.0)


def test_arrivals_never_below_zero_at_the_origin():
    """Stock 300 − 25k: implied arrivals 83⅓ − 8⅓k run to −25 at k = 13; arrivals cannot be negative."""
    months = pd.date_range("2020-01-01", periods=14, freq="MS")
    assert fit_flows(pd.Series(300.0 - 25 * np.arange(14), index=months), 3.0).level == 0.0


def test_mase_scale_window_includes_the_origin_month():
    # The scale is the seasonal-naive error of the history up to and including the origin (position 13):
    # |y12 - y0| = 2 and |y13 - y1| = 6, mean 4. The target y14 = 8 forecast as 0 gives 8 / 4 = 2.
    y = pd.Series(np.zeros(16))
    y[12], y[13], y[14] = 2.0, 6.0, 8.0
    errors = rolling_backtest(y, {"zero": lambda origin, h: np.zeros(h)}, 2, [13])
    assert errors[["h", "forecast", "actual", "error"]].values.tolist() == [[1, 0.0, 8.0, -8.0], [2, 0.0, 0.0, 0.0]]
    assert errors["scaled_error"].tolist() == [2.0, 0.0]
    assert errors["origin"].tolist() == ["13", "13"]


def test_mase_scale_of_a_flat_or_too_short_history_is_unknown():
    assert np.isnan(mase_scale(np.ones(20)))
    assert np.isnan(mase_scale(np.arange(12.0)))  # no month has a year before it
    assert mase_scale(np.arange(13.0)) == 12.0    # exactly one seasonal difference




def test_seasonal_naive_beyond_a_year_repeats_the_last_year_seen():
    y = pd.Series(np.arange(40.0))  # value = position
    # origin 20: targets 21..34 take 9..20, then 9, 10 again (never a value after the origin)
    assert seasonal_naive(y.to_numpy())(20, 14)[0].tolist() == [*range(9, 21), 9, 10]


def test_littles_law_is_the_last_12_months_inflow_times_the_stay_at_the_origin():
    inflow, stay = pd.Series(np.arange(24.0)), pd.Series(np.arange(24.0) / 10)
    # origin 14: mean inflow of positions 3..14 = 8.5, times the mean stay 1.4 months
    assert littles_law(pd.Series(np.zeros(24)), inflow, stay)(14, 3) == pytest.approx([11.9, 11.9, 11.9])


def test_mase_scale_below_one_is_a_scale():
    y = np.r_[np.zeros(12), np.full(12, 0.5)]
    assert mase_scale(y) == 0.5


@pytest.mark.parametrize("n, count, origins", [(60, 5, range(43, 48)), (60, 20, range(35, 48)), (48, 1, range(35, 36))])
def test_default_origins_leave_a_full_horizon_and_36_months_of_training(n, count, origins):
    # the last origin has 12 months after it (position n - 13); the first has 36 months up to and including it
    assert default_origins(n, 12, count) == origins


def test_loaders_read_the_published_formats(tmp_path, monkeypatch):
    (tmp_path / "extras").mkdir()
    (tmp_path / "nyc_dhs_daily_report.csv").write_text(
        "Date of Census,Total Individuals in Shelter,Total Individuals in Families with Children in Shelter ,"
        "Adult Families in Shelter\n01/03/2020,12,5,2\n01/02/2020,11,4,3\n01/02/2020,11,4,3\n", encoding="utf-8")
    (tmp_path / "extras" / "nyc_dhs_daily_census_tidy_2021-03_2025-12.csv").write_text(
        "date_of_census,measure,count,table\n2020-01-04,total_individuals_in_shelter,13,x\n"
        "2020-01-03,total_individuals_in_shelter,99,x\n2020-01-04,adult_families_in_shelter,1,x\n", encoding="utf-8")
    (tmp_path / "toronto_shelter_system_flow_2018-01_2024-08.csv").write_text(
        "X_id,date.mmm.yy.,population_group,returned_from_housing,returned_to_shelter,newly_identified,"
        "moved_to_housing,became_inactive,actively_homeless\n1,Feb-18,All Population,1,2,3,4,5,100\n"
        "2,Jan-18,All Population,1,1,1,1,1,90\n3,Jan-18,Chronic,0,0,0,0,0,9\n", encoding="utf-8")
    monkeypatch.setenv("ANALYSIS_REALDATA", str(tmp_path))
    nyc = nyc_census()
    assert nyc.tolist() == [11, 12, 13]  # oldest first, duplicate dropped, extended by the tidy file
    assert nyc_census("Total Individuals in Families with Children in Shelter").tolist() == [4, 5]  # not in the tidy file
    assert nyc_census("Adult Families in Shelter").tolist() == [3, 2, 1]  # continued by its own tidy measure
    tor = toronto_flows()
    assert tor["stock"].tolist() == [90, 100]
    assert tor["inflow"].tolist() == [3, 6] and tor["outflow"].tolist() == [2, 9]


def test_rolling_backtest_rows_are_numbered_once_across_methods_and_origins():
    """One row per method, origin and horizon, numbered 0… in that order (a survivor of 6 December:
    ``concat`` without ``ignore_index`` repeats 0, 1 per block, and ``.loc`` then picks several rows)."""
    y = pd.Series(np.arange(20.0), index=pd.period_range("2021-01", periods=20, freq="M"))
    errors = rolling_backtest(y, {"zero": lambda origin, h: np.zeros(h), "last": lambda origin, h: np.full(h, y.iloc[origin])},
                              2, [13, 14])
    assert errors.index.equals(pd.RangeIndex(8))
    assert errors[["method", "origin", "h"]].values.tolist() == [
        ["zero", "2022-02", 1], ["zero", "2022-02", 2], ["last", "2022-02", 1], ["last", "2022-02", 2],
        ["zero", "2022-03", 1], ["zero", "2022-03", 2], ["last", "2022-03", 1], ["last", "2022-03", 2]]
    assert errors.loc[3, "error"] == 13.0 - 15.0  # last at origin 13 (value 13), h = 2 (actual 15)
