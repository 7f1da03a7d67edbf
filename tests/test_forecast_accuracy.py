"""The evaluation module: MASE, bias and coverage by hand on tiny series, bands, the CLI."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.cli import main
from analysis.forecast.accuracy import (accuracy_sentence, accuracy_table, evaluate_file, evaluate_series,
                                       read_series)
from analysis.forecast.backtest import rolling_backtest
from analysis.forecast.combined import (BAND_PROBS, CombinedForecaster, aci_scale, log_ratio_quantiles,
                                       prediction_quantiles, t_quantiles)
from analysis.forecast.methods import drift, fit_statsmodels_ets, naive, seasonal_naive

# 0..11, then 16, 13, 20: the seasonal-naive scale is |16 − 0| = 16 at origin 12 (the origin's own
# value counts), (16 + |13 − 1|) / 2 = 14 at origin 13
Y = pd.Series([float(v) for v in range(12)] + [16.0, 13.0, 20.0],
              index=pd.period_range("2020-01", periods=15, freq="M"))


def _constant(origin: int, h: int) -> np.ndarray:
    """10 with hand-set bands: 80 % [12, 14] then [15, 25]; 95 % [14, 16] then [21, 30]."""
    return np.array([[10, 10], [12, 15], [14, 25], [14, 21], [16, 30]], dtype=float)[:, :h]


def _table() -> pd.DataFrame:
    errors = rolling_backtest(Y, {"c": _constant}, 2, [12, 13])
    return accuracy_table(errors, horizons=(1, 2), mean_to=2).set_index("horizon")


def test_mase_scales_by_the_history_up_to_and_including_the_origin():
    t = _table()
    # origin 12: errors −3 (h1), −10 (h2) over 16; origin 13: −10 (h1) over 14; h2 is beyond the data
    assert t.loc["1", "mase"] == pytest.approx((3 / 16 + 10 / 14) / 2)
    assert t.loc["1", "origins"] == 2


def test_a_horizon_row_is_the_error_at_that_horizon_not_up_to_it():
    t = _table()
    assert t.loc["2", "mase"] == pytest.approx(10 / 16)
    assert t.loc["2", "bias"] == -10 and t.loc["2", "mae"] == 10 and t.loc["2", "origins"] == 1
    assert t.loc["1-2", "mase"] == pytest.approx((3 / 16 + 10 / 14 + 10 / 16) / 3)
    assert t.loc["1-2", "bias"] == pytest.approx(-23 / 3)


def test_the_table_keeps_the_methods_in_the_order_given():
    errors = rolling_backtest(Y, {"zz_first": _constant, "aa_second": lambda o, h: np.full(h, 12.0)}, 1, [12])
    table = accuracy_table(errors, horizons=(1,), mean_to=1)
    assert table["method"].tolist() == ["zz_first", "aa_second", "zz_first", "aa_second"]
    assert table["horizon"].tolist() == ["1", "1", "1-1", "1-1"]


def test_coverage_counts_actuals_inside_the_bands_bounds_included():
    t = _table()
    # h1: 13 in [12, 14], 20 not; 95 %: 13 below 14, 20 above 16. h2: 20 in [15, 25]; 20 below 21
    assert t.loc["1", "coverage80"] == 0.5 and t.loc["1", "coverage95"] == 0.0
    assert t.loc["2", "coverage80"] == 1.0 and t.loc["2", "coverage95"] == 0.0
    edge = rolling_backtest(Y, {"c": lambda o, h: np.array([[10.0], [13.0], [13.0], [13.0], [13.0]])}, 1, [12])
    assert accuracy_table(edge, horizons=(1,), mean_to=1)["coverage80"].iloc[0] == 1.0


def test_a_method_without_bands_has_no_coverage():
    errors = rolling_backtest(Y, {"p": lambda o, h: np.full(h, 10.0)}, 1, [12])
    assert np.isnan(accuracy_table(errors, horizons=(1,), mean_to=1)["coverage80"].iloc[0])


def test_standard_methods_by_hand():
    v = np.array([1.0, 2, 4, 7, 8, 9, 10, 12, 13, 14, 15, 16, 20])
    assert naive(v)(12, 2)[0].tolist() == [20, 20]
    assert seasonal_naive(v)(12, 13)[0].tolist() == [2, 4, 7, 8, 9, 10, 12, 13, 14, 15, 16, 20, 2]
    assert drift(v)(12, 2)[0].tolist() == pytest.approx([20 + 19 / 12, 20 + 38 / 12])
    fc = naive(v)(12, 4)
    assert (fc[2] - fc[0])[3] == pytest.approx(2 * (fc[2] - fc[0])[0])  # random-walk band: σ√h


def test_t_quantiles_match_the_tables():
    # Student t: 3 df 97.5 % 3.182, 10 df 90 % 1.372, 30 df 2.5 % -2.042 (any t table)
    np.testing.assert_allclose(t_quantiles(np.array([0.975]), 3), [3.182], atol=0.004)
    np.testing.assert_allclose(t_quantiles(np.array([0.9, 0.5]), 10), [1.372, 0.0], atol=0.001)
    np.testing.assert_allclose(t_quantiles(np.array([0.025]), 30), [-2.042], atol=0.001)


def test_prediction_quantiles_are_the_normal_prediction_interval():
    # −1, 1, −1, 1: mean 0, sd √(4/3), √(1 + 1/4) → half-width t3 × √(5/3); a shift moves the centre
    errors = np.array([-1.0, 1.0, -1.0, 1.0])
    probs = np.array([0.025, 0.975])
    half = t_quantiles(np.array([0.975]), 3)[0] * np.sqrt(5 / 3)
    np.testing.assert_allclose(prediction_quantiles(errors, probs), [-half, half])
    np.testing.assert_allclose(prediction_quantiles(errors + 0.5, probs), [0.5 - half, 0.5 + half])


def test_band_quantiles_per_horizon_then_growing_with_root_h():
    errors = {1: np.array([-0.1, 0.1] * 6)}
    q = log_ratio_quantiles(errors, 4)
    np.testing.assert_allclose(q[:, 0], prediction_quantiles(errors[1], BAND_PROBS))
    np.testing.assert_allclose(q[:, 3], 2 * q[:, 0])


def test_bounds_never_narrow_with_the_horizon():
    errors = {1: np.array([-0.3, 0.3] * 6), 2: np.array([-0.1, 0.1] * 6)}
    q = log_ratio_quantiles(errors, 2)
    np.testing.assert_allclose(q[:, 1], q[:, 0])


def test_too_few_errors_at_a_horizon_pools_them_scaled_by_root_h():
    # pooled: 0.1, −0.1 from horizon 1 and 0.2 / √4, −0.2 / √4 from horizon 4; at horizon 9 times √9
    q = log_ratio_quantiles({1: np.array([0.1, -0.1]), 4: np.array([0.2, -0.2])}, 9)
    np.testing.assert_allclose(q[:, 8], 3 * prediction_quantiles(np.array([0.1, -0.1, 0.1, -0.1]), BAND_PROBS))
    with pytest.raises(ValueError, match="no past forecast errors"):
        log_ratio_quantiles({1: np.array([0.1, -0.1, 0.2])}, 3)


def test_adaptive_conformal_scale_by_hand():
    # one miss in ten at a 10 % miss rate is on target: no change; two in four widen by 0.05 × 1.6
    assert aci_scale(np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0.1, step=0.05) == pytest.approx(0.0)
    assert aci_scale(np.array([1, 1, 0, 0]), 0.1, step=0.05) == pytest.approx(0.08)
    assert aci_scale(np.zeros(20), 0.025, step=0.05) == pytest.approx(-0.025)  # hits narrow slowly
    assert aci_scale(np.array([]), 0.1) == 0.0


def test_combined_point_is_the_mean_of_its_candidates():
    values = np.arange(1.0, 31.0)
    model = CombinedForecaster(values, {"a": lambda o, h: np.full(h, 10.0), "b": lambda o, h: np.arange(1.0, h + 1)},
                               first_origin=12)
    np.testing.assert_allclose(model.point(20, 3), [5.5, 6.0, 6.5])


def _shifted() -> np.ndarray:
    rng = np.random.default_rng(4)
    values = 1000 * np.exp(np.cumsum(rng.normal(0, 0.03, 60)))
    values[40:] *= 1.5  # a level shift no past error has shown
    return values


def _persistence(values: np.ndarray, **kw) -> CombinedForecaster:
    return CombinedForecaster(values, {"last": lambda o, h: np.full(h, values[o])}, first_origin=12, **kw)


def test_combined_bands_widen_with_horizon():
    values = _shifted()[:30]
    fc = _persistence(values)(29, 12)
    width = np.log(fc[4] / fc[3])
    assert (np.diff(width) > -1e-12).all() and width[0] < width[11]
    assert (fc[3] < fc[1]).all() and (fc[1] < fc[0]).all() and (fc[0] < fc[2]).all() and (fc[2] < fc[4]).all()


def test_misses_widen_the_bands_only_once_they_are_observed():
    values = _shifted()
    fixed, adaptive = _persistence(values, aci_step=0.0), _persistence(values)
    width = lambda m, o: np.log(m(o, 12)[4] / m(o, 12)[3])
    assert (width(adaptive, 55) > width(fixed, 55)).all()  # the shift's misses have widened them
    # at an origin before the shift the band is what the data up to it give, however the series goes on
    np.testing.assert_allclose(adaptive(38, 12), _persistence(values[:39])(38, 12))


def test_sentence_names_the_winner_and_the_margin_in_persons():
    table = pd.DataFrame({"method": ["model", "naive", "damped_ets"], "horizon": "12", "mase": [0.5, 0.9, 0.7],
                          "mae": [100.0, 180.0, 140.0], "origins": 12})
    text = accuracy_sentence(table)
    assert "ramt 100 personer ved siden af 12 måneder frem" in text
    assert "(dæmpet eksponentiel udjævning) 140 personer" in text
    assert "ramte prognosen bedst, med 40 personer" in text
    close = table.assign(mae=[27.0, 28.0, 29.0])
    assert accuracy_sentence(close).endswith("(sidste måneds niveau) 28 personer. Altså ramte de to omtrent lige godt.")
    worse = table.assign(mae=[101.0, 100.0, 140.0])
    assert "ramte de to omtrent lige godt" in accuracy_sentence(worse)
    assert accuracy_sentence(table.assign(mae=[150.0, 100.0, 140.0])).endswith(
        "ramte den simple metode bedst, med 50 personer.")
    assert "ramt 1 person ved siden af" in accuracy_sentence(table.assign(mae=[1.0, 9.0, 9.0]))
    # The margin is the difference of the figures printed (15 and 12), not of the unrounded ones (2,2).
    assert accuracy_sentence(table.assign(mae=[14.6, 12.4, 20.0])).endswith(
        "ramt 15 personer ved siden af 12 måneder frem; den bedste simple fremskrivning (sidste måneds niveau) "
        "12 personer. Altså ramte den simple metode bedst, med 3 personer.")


def _two_methods(model: float, naive_mae: float, horizon: str = "12") -> pd.DataFrame:
    return pd.DataFrame({"method": ["model", "naive"], "horizon": horizon, "mase": 1.0, "mae": [model, naive_mae],
                         "origins": 12})


@pytest.mark.parametrize("model, best, ending", [
    (105.0, 100.0, "(sidste måneds niveau) 100 personer. Altså ramte de to omtrent lige godt."),  # 5 % of 100: a tie
    (10.5, 10.0, "(sidste måneds niveau) 10 personer. Altså ramte de to omtrent lige godt."),  # half a person: a tie
    (11.0, 10.0, "(sidste måneds niveau) 10 personer. Altså ramte den simple metode bedst, med 1 person."),
    # 0.8 better, above 5 % of 12.4 (0.62): the forecast wins, but both print as 12, so no margin is printed
    (11.6, 12.4, "(sidste måneds niveau) 12 personer. Altså ramte prognosen bedst."),
])
def test_sentence_at_the_tie_limits_and_a_margin_that_rounds_to_nothing(model, best, ending):
    assert accuracy_sentence(_two_methods(model, best)).endswith(ending)


def test_sentence_reads_only_the_horizon_asked_for():
    table = pd.concat([_two_methods(50.0, 20.0, "3").assign(origins=10), _two_methods(4.0, 9.0, "1")])
    assert accuracy_sentence(table, "1") == (
        "Prøvet bagud på 12 tidligere prognosestarter har prognosen i gennemsnit ramt 4 personer ved siden af "
        "1 måned frem; den bedste simple fremskrivning (sidste måneds niveau) 9 personer. "
        "Altså ramte prognosen bedst, med 5 personer.")


def test_no_sentence_without_a_model_figure():
    assert accuracy_sentence(_two_methods(np.nan, 9.0)) == ""
    assert accuracy_sentence(_two_methods(4.0, 9.0).iloc[1:]) == ""


def _write(path, rows: list[str]):
    path.write_text("month,stock,inflow,outflow\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_read_series_names_file_row_and_column(tmp_path):
    f = _write(tmp_path / "s.csv", ["2020-01,10,1,1", "2020-02,x,1,1"])
    with pytest.raises(ValueError, match=r"s\.csv, row 3, column 'stock': not a non-negative number"):
        read_series(f)
    f = _write(tmp_path / "s.csv", ["2020-01,10,1,1", "2020-3,10,1,1"])
    with pytest.raises(ValueError, match=r"row 3, column 'month'"):
        read_series(f)
    f = _write(tmp_path / "s.csv", ["2020-01,10,1,1", "2020-03,10,1,1"])
    with pytest.raises(ValueError, match="skips 1 month"):
        read_series(f)


@pytest.mark.parametrize("header, rows, message", [
    ("month,count", ["2020-01,10"], "{f}: no column 'stock' (columns: month, count)"),
    ("month,stock,inflow", ["2020-01,10,1"], "{f}: 'inflow' given without 'outflow'"),
    ("month,stock,outflow", ["2020-01,10,1"], "{f}: 'outflow' given without 'inflow'"),
    ("month,stock", ["2020-01,10", "2020-13,10"], "{f}, row 3, column 'month': not a month YYYY-MM"),
    ("month,stock", ["2020-01,10", "2020-01,11"], "{f}, row 3, column 'month': repeats an earlier month"),
    ("month,stock", ["2020-01,", "2020-02,10"], "{f}, row 2, column 'stock': not a non-negative number"),
    ("month,stock,inflow,outflow", ["2020-01,10,1,-1"],
     "{f}, row 2, column 'outflow': not a non-negative number"),
])
def test_read_series_refuses_each_problem_with_the_whole_message(tmp_path, header, rows, message):
    f = tmp_path / "s.csv"
    f.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as refused:
        read_series(f)
    assert str(refused.value) == message.format(f=f)


def test_a_refused_cell_is_named_by_row_and_column_never_quoted(tmp_path):
    """Errors reach logs and mails: a series file pasted from an extract may hold anything, a CPR number too."""
    f = tmp_path / "s.csv"
    f.write_text("month,stock\n2020-01,10\n2020-02,10\n2020-01,11\n2020-04,610180-1234\n", encoding="utf-8")
    with pytest.raises(ValueError) as refused:
        read_series(f)
    assert str(refused.value) == f"{f}, row 5, column 'stock': not a non-negative number"
    f.write_text("month,stock\n2020-01,10\n2020-02,10\n2020-01,11\n", encoding="utf-8")
    with pytest.raises(ValueError) as refused:
        read_series(f)
    assert str(refused.value) == f"{f}, row 4, column 'month': repeats an earlier month"


def test_read_series_takes_zero_and_sorts_the_months(tmp_path):
    df = read_series(_write(tmp_path / "s.csv", ["2020-02,0,0,0", "2020-01,3,1,2"]))
    assert df.index.tolist() == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01")]
    assert df["stock"].tolist() == [3.0, 0.0] and df["inflow"].tolist() == [1.0, 0.0] and df["outflow"].tolist() == [2.0, 0.0]


def _series_rows(n: int = 50) -> list[str]:
    months = pd.period_range("2018-01", periods=n, freq="M")
    stock = 500 + 2 * np.arange(n) + 20 * np.sin(np.arange(n) * np.pi / 6)
    return [f"{m},{s:.0f},{60 + i % 12},{58 + i % 12}" for i, (m, s) in enumerate(zip(months.strftime("%Y-%m"), stock))]


def test_evaluation_needs_the_training_history_plus_a_year():
    y = pd.Series(np.linspace(100.0, 146.0, 47), index=pd.period_range("2018-01", periods=47, freq="M"))
    with pytest.raises(ValueError) as refused:
        evaluate_series(y, 3.0)
    assert str(refused.value) == "47 months are too few: the evaluation needs 48 or more"
    with pytest.raises(ValueError) as refused:
        evaluate_series(y.iloc[:35], 3.0, min_train=24)
    assert str(refused.value) == "35 months are too few: the evaluation needs 36 or more"
    # 37 months and two years of training: the origins are the 24th and 25th months (2019-12, 2020-01), the
    # only ones with 24 months of history up to and including them and a full year ahead
    errors = evaluate_series(y.iloc[:37], 3.0, origins=5, min_train=24)
    assert sorted(set(errors["origin"])) == ["2019-12", "2020-01"] and len(errors) == 2 * 5 * 12


def test_the_file_s_flows_drive_the_model_and_damped_ets_is_statsmodels(tmp_path):
    """With inflow and outflow the stock-and-flow candidate takes its rates from them (the mean stay is then not
    used); without, from the mean stay. The four reference methods do not depend on either."""
    rows = _series_rows()
    flows = evaluate_file(_write(tmp_path / "flows.csv", rows), 6.0, origins=1)
    counts = tmp_path / "counts.csv"
    counts.write_text("month,stock\n" + "\n".join(r.rsplit(",", 2)[0] for r in rows) + "\n", encoding="utf-8")
    short, long = evaluate_file(counts, 3.0, origins=1), evaluate_file(counts, 12.0, origins=1)
    model = lambda table: table[table["method"] == "model"]["mae"].to_numpy()  # noqa: E731
    reference = lambda table: table[table["method"] != "model"].reset_index(drop=True)  # noqa: E731
    assert not np.allclose(model(flows), model(short)) and not np.allclose(model(short), model(long))
    pd.testing.assert_frame_equal(reference(flows), reference(short))
    pd.testing.assert_frame_equal(flows, evaluate_file(_write(tmp_path / "flows.csv", rows), 3.0, origins=1))
    # the damped ETS row is statsmodels' fit, the external reference, not the step's own NumPy ETS
    stock = read_series(counts)["stock"]
    errors = evaluate_series(stock, 3.0, origins=1)
    at = errors[errors["method"] == "damped_ets"]
    origin = stock.index.get_loc(pd.Timestamp(at["origin"].iloc[0][:10]))
    np.testing.assert_allclose(at["forecast"], fit_statsmodels_ets(stock.to_numpy()[: origin + 1]).forecast(12))


def test_cli_writes_one_row_per_method_and_horizon(tmp_path, capsys):
    months = pd.period_range("2018-01", periods=50, freq="M")
    stock = 500 + 2 * np.arange(50) + 20 * np.sin(np.arange(50) * np.pi / 6)
    rows = [f"{m},{s:.0f},{60 + i % 12},{58 + i % 12}" for i, (m, s) in enumerate(zip(months.strftime("%Y-%m"), stock))]
    series = _write(tmp_path / "series.csv", rows)
    out = tmp_path / "table.csv"
    assert main(["forecast-accuracy", "--series", str(series), "--out", str(out), "--origins", "2"]) == 0
    table = pd.read_csv(out, dtype={"horizon": str})
    assert set(table["method"]) == {"model", "naive", "seasonal_naive", "drift", "damped_ets"}
    assert sorted(set(table["horizon"])) == ["1-12", "12", "3", "6"]
    assert len(table) == 20 and (table["origins"] == 2).all()
    assert table[table["method"] == "model"][["coverage80", "coverage95"]].notna().all().all()
    assert "damped_ets" in capsys.readouterr().out


def test_cli_rejects_a_bad_file_with_exit_code_2(tmp_path, capsys):
    series = _write(tmp_path / "bad.csv", ["2020-01,-5,1,1"])
    assert main(["forecast-accuracy", "--series", str(series)]) == 2
    assert "bad.csv, row 2, column 'stock'" in capsys.readouterr().err


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(1, 1000), min_size=26, max_size=40), st.floats(0.01, 100))
def test_mase_and_coverage_do_not_depend_on_the_unit(values, factor):
    """Counting in hundreds or in persons gives the same MASE and coverage; MAE and bias scale."""
    y = pd.Series(values, index=pd.period_range("2020-01", periods=len(values), freq="M"))
    tables = [accuracy_table(rolling_backtest(s, {"naive": naive(s.to_numpy()), "drift": drift(s.to_numpy())}, 12,
                                              range(13, len(values) - 1)), horizons=(1, 12))
              for s in (y, y * factor)]
    if tables[0]["mase"].isna().any():  # a flat year: no seasonal-naive error to scale by
        return
    np.testing.assert_allclose(tables[0]["mase"], tables[1]["mase"], rtol=1e-9)
    np.testing.assert_allclose(tables[0]["mae"] * factor, tables[1]["mae"], rtol=1e-9)
    assert tables[0]["coverage80"].between(0, 1).all()
    # coverage can differ only where an actual sits on a bound within rounding
    assert (tables[0]["coverage80"] - tables[1]["coverage80"]).abs().max() <= 0.1


def test_the_capacity_reports_public_series_table_is_what_the_code_computes_now():
    """The report cannot read the public files, so the benchmark records their table in the package
    (``bench_forecast.py --record``); recomputed here from the same monthly files, it must be equal,
    so a change to the method cannot leave the report showing the old method's figures."""
    from pathlib import Path

    from analysis.forecast.accuracy import REFERENCE_FILE, reference_accuracy, reference_errors
    from analysis.params import load_params
    from analysis.report.forecast_report import read_reference

    folder = Path(__file__).parent / "fixtures" / "realdata"
    now = reference_accuracy(reference_errors(folder, float(load_params()["forecast.series_mean_stay_months"])))
    recorded = read_reference(REFERENCE_FILE)
    assert list(recorded["series"].unique()) == ["nyc_counts", "toronto_flows", "toronto_counts"]
    pd.testing.assert_frame_equal(recorded, now.round(6), check_dtype=False, atol=1e-6)
