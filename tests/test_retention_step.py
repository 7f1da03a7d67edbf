"""The retention step: its rows are checked against the catalogue where they are computed, and it writes
the indicator file the runner declares and the assemble step reads."""
import pandas as pd
import pytest

from analysis.context import indicator_file
from analysis.indicators.build import IndicatorTableError
from analysis.indicators.catalogue import load_catalogue
from analysis.params import load_params
from analysis.retention import payment
from analysis.retention.step import STEP, run_retention, write_outputs
from tests.test_retention import M, month_tables


def test_the_step_writes_its_checked_rows_where_the_runner_looks(tmp_path):
    outputs = run_retention(month_tables(), M, load_params())
    rows = outputs.indicators
    assert list(rows.columns) == ["indicator", "period", "breakdown", "value"]
    assert set(rows["indicator"]) <= set(load_catalogue())
    assert rows.equals(rows.sort_values(["indicator", "period", "breakdown"], ignore_index=True))
    assert {"housing_retention_tenancies", "payment_assessed", "subsidy_tenants"} <= set(rows["indicator"])
    assert set(outputs.tables) == {"at_risk_method", "at_risk_pathway", "income_transitions", "subsidy_example",
                                   "subsidy_projection"}
    written = write_outputs(outputs, tmp_path)
    assert indicator_file(tmp_path, STEP) in written
    assert sorted(p.name for p in written if p.parent == tmp_path / STEP) == [
        "km_method.parquet", "km_pathway.parquet", "returns_incidence.parquet"]
    assert pd.read_parquet(indicator_file(tmp_path, STEP)).equals(rows)


def test_a_figure_without_a_catalogue_entry_stops_the_step(monkeypatch):
    real = payment.payment_indicators
    monkeypatch.setattr(payment, "payment_indicators", lambda *a: pd.concat(
        [real(*a), pd.DataFrame([{"indicator": "payment_undefined", "period": str(M), "breakdown": "", "value": 1.0}])],
        ignore_index=True))
    with pytest.raises(IndicatorTableError, match="payment_undefined: not in the catalogue"):
        run_retention(month_tables(), M, load_params())
