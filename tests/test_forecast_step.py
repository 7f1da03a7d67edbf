"""The forecast step end to end on a known-process history, and the memo's Spor 7."""
import re

import numpy as np
import pandas as pd
import pytest

from analysis.forecast.crosschecks import reconciliation
from analysis.forecast.step import read_outputs, run_forecast, write_outputs
from tests.forecast_toy import toy_history
from analysis.indicators.catalogue import load_catalogue
from analysis.params import load_params
from analysis.report.memo.spor7 import headline_markdown
from analysis.report.published import Figures

MONTH = pd.Period("2025-10", freq="M")


@pytest.fixture(scope="module")
def outputs():
    params = load_params(overrides=["forecast.backtest_origins=3", "forecast.backtest_paths=50"])
    return run_forecast(toy_history(month="2025-10", start="2017-01"), MONTH, params, paths=60)


def test_tables_and_indicators(outputs, tmp_path):
    yearly = outputs.tables["yearly"]
    assert set(yearly["scenario"]) == {"baseline", "trend_continues", "reform", "low_housing", "high_inflow"}
    y2030 = yearly[(yearly["period"] == "2030") & (yearly["measure"] == "places_110_needed")].set_index("scenario")
    assert (y2030["lo95"] <= y2030["lo80"]).all() and (y2030["lo80"] <= y2030["median"]).all()
    assert (y2030["median"] <= y2030["hi80"]).all() and (y2030["hi80"] <= y2030["hi95"]).all()
    # levers move the need the way they should
    assert y2030.loc["high_inflow", "median"] > y2030.loc["baseline", "median"]
    assert y2030.loc["low_housing", "median"] > y2030.loc["baseline", "median"]
    ind = outputs.indicators
    assert list(ind.columns) == ["indicator", "period", "breakdown", "value"]
    assert set(ind["indicator"]) <= set(load_catalogue())
    assert ind["period"].str.fullmatch(r"\d{4}(-\d{2})?").all()
    written = write_outputs(outputs, tmp_path)
    assert (tmp_path / "indicators" / "forecast.parquet") in written
    assert set(read_outputs(tmp_path)) >= {"monthly", "yearly", "costs", "backtest", "flows", "littles_law"}


def test_history_reconciles_and_littles_law_holds(outputs):
    rec = reconciliation(outputs.tables["flows"].set_index("period"))
    assert rec["reconciles"].all()
    hist = outputs.tables["littles_law"]
    assert hist.loc[hist["scenario"] == "baseline", "ratio"].between(0.8, 1.2).all()


def test_costs_positive_extra_cost_for_shelter_after_rules(outputs):
    hist = outputs.tables["history_costs"]
    s110 = hist[(hist["area"] == "110") & (hist["year"] == 2024)].iloc[0]
    assert s110["extra_cost"] > 0
    assert s110["reimbursement_new"] < s110["reimbursement_old"]
    before = hist[(hist["year"] == 2022)]
    assert np.allclose(before["extra_cost"], 0)


def test_spor7_headline_from_indicators(outputs):
    places = pd.DataFrame([("shelter_places", "2025-10", "110", 300.0)], columns=["indicator", "period", "breakdown", "value"])
    text = headline_markdown(Figures(pd.concat([outputs.indicators, places]), MONTH, 5), load_params())
    assert "§ 110-pladser i 2030" in text and "mod 300 pladser i dag" in text
    assert "2026" in text and "mio. kr." in text
    # both needs are published figures with their interval, not a mark for a missing one
    assert re.search(r"§ 110-pladser i 2030: [\d.]+ \(80 %-interval [\d.]+–[\d.]+\)", text)
    assert re.search(r"§ 107-pladser i 2026: [\d.]+ \(80 %-interval [\d.]+–[\d.]+\)", text)
    # the accuracy sentence comes from analysis.forecast.accuracy on the published rows, not a MASE figure
    assert "Prøvet bagud på 3 tidligere prognosestarter" in text and "personer ved siden af 12 måneder frem" in text
    assert "MASE" not in text


def test_combined_bands_widen_with_horizon_in_the_published_tables(outputs):
    monthly = outputs.tables["monthly"]
    base = monthly[(monthly["scenario"] == "baseline") & (monthly["measure"] == "shelter_stock")]
    width = (base["hi80"] - base["lo80"]).to_numpy()
    assert width[0] < width[11] < width[-1]


def test_spor7_without_forecast_says_not_available():
    empty = pd.DataFrame(columns=["indicator", "period", "breakdown", "value"])
    assert "endnu ikke tilgængelig" in headline_markdown(Figures(empty, MONTH, 5), load_params())


@pytest.mark.slow
def test_synthetic_default_backtest_beats_seasonal_naive(tmp_path):
    """Done-when of issue 6: on the synthetic default the baseline beats seasonal naive at 12 months."""
    from analysis.clean.month import build_month
    from analysis.forecast.accuracy import accuracy_table
    from analysis.forecast.backtest import local_backtest
    from analysis.forecast.step import read_month_tables
    from analysis.ingest.run import run_ingest
    from analysis.synthetic import generate

    month = pd.Period("2026-10", freq="M")
    params = load_params()
    generate(tmp_path / "raw", seed=2023, scale=1.0)
    run_ingest(tmp_path / "raw", tmp_path / "processed")
    build_month(tmp_path / "processed", month, params)
    tables = read_month_tables(tmp_path / "processed" / str(month))
    table = accuracy_table(local_backtest(tables, month, params)[0])
    mase = table[table["horizon"] == "12"].set_index("method")["mase"]
    assert mase["model"] < 1
    assert mase["model"] < mase["seasonal_naive"]


def test_scenarios_run_in_a_pool_give_the_same_paths_as_one_after_another():
    """The step simulates scenarios beside the backtest in threads; each has its own seeded generator."""
    from concurrent.futures import ThreadPoolExecutor

    from analysis.forecast.model import History, fit_history
    from analysis.forecast.run import run_scenarios

    params = load_params()
    tables = toy_history(month="2025-10", start="2021-01")
    fitted = fit_history(History.from_tables(tables["episodes"], tables["tenancies"], tables["support"], params),
                         MONTH, params)
    alone = run_scenarios(fitted, params, paths=40)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pooled = run_scenarios(fitted, params, paths=40, pool=pool)
    assert list(pooled) == list(alone) and len(alone) > 1
    for name, paths in alone.items():
        for series, values in paths.series.items():
            np.testing.assert_array_equal(pooled[name].series[series], values, err_msg=f"{name} {series}")
