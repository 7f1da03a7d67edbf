"""Row-level rules: every bad row is quarantined with rule, column and source row; nothing is dropped."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.ingest import run_ingest
from tests.fixtures.raw import delivery, row_rule_params

EXPECTED_OPHOLD = {  # 1-based data row → (rule, column)
    2: ("cpr_malformed", "cpr"),
    3: ("bad_date", "indskrevet"),
    4: ("end_before_start", "udskrevet"),
    5: ("future_date", "indskrevet"),
    6: ("unknown_reference", "herberg_id"),
    7: ("duplicate_key", "ophold_id"),
    8: ("duplicate", ""),
    9: ("bad_value", "handlekommune"),
    10: ("missing_value", "cpr"),
    11: ("cpr_malformed", "cpr"),
}


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad")
    raw = delivery(base / "raw", ophold="ophold_bad_rows.csv", boliger="boliger_bad_rows.csv")
    report = run_ingest(raw, base / "processed", row_rule_params())
    return report, pd.read_parquet(base / "processed" / "quarantine.parquet"), base


def test_each_bad_row_gets_its_rule(bad):
    _, quarantine, _ = bad
    got = quarantine[quarantine.extract == "ophold"].set_index("row_number")[["rule", "column"]]
    assert {r: tuple(v) for r, v in got.iterrows()} == EXPECTED_OPHOLD


def test_numbers_and_enumerations(bad):
    _, quarantine, _ = bad
    got = quarantine[quarantine.extract == "boliger"].set_index("row_number")[["rule", "column"]]
    assert {r: tuple(v) for r, v in got.iterrows()} == {
        2: ("bad_number", "husleje"), 3: ("bad_number", "vaerelser"), 4: ("bad_value", "boligtype")}


def test_reconciliation_counts(bad):
    report, _, _ = bad
    q = report.extracts["ophold"]
    assert (q.rows_read, q.rows_clean, q.rows_quarantined) == (13, 3, 10)
    assert q.duplicates_collapsed == 1
    for e in report.extracts.values():
        assert e.rows_read == e.rows_clean + e.rows_quarantined


def test_unmapped_labels_are_counted_not_dropped(bad):
    report, _, base = bad
    assert report.extracts["ophold"].unmapped_labels == {"udskrivningsgrund": {"rumrejse": 2}}
    stays = pd.read_parquet(base / "processed" / "stays.parquet")
    assert stays.loc[stays.stay_id == "S12", "discharge_category"].item() == "ukendt"


def test_quarantine_holds_no_cpr(bad):
    _, quarantine, _ = bad
    rows = [json.loads(r) for r in quarantine.row_json]
    cprs = {r["cpr"] for r in rows if "cpr" in r}
    assert "<malformed>" in cprs
    assert all(c == "<malformed>" or len(c) == 16 for c in cprs)
    text = quarantine.to_csv()
    for cpr in ("610190", "6101901235", "650285", "12345", "611390"):
        assert cpr not in text


def test_quality_json_written(bad):
    _, _, base = bad
    data = json.loads((base / "processed" / "quality.json").read_text(encoding="utf-8"))
    assert data["extracts"]["ophold"]["quarantined_by_rule"]["duplicate"] == 1
    assert set(data["outputs"]) >= {"persons", "stays", "quarantine"}


def _append(path, line):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def test_overlapping_register_periods(tmp_path):
    raw = delivery(tmp_path / "raw")
    _append(raw / "herberger.csv", "H1;Sporsløjfen;selvejende;110;unge;12;01-06-2022;;")  # H1 §110 has no end
    report = run_ingest(raw, tmp_path / "processed", row_rule_params())
    assert report.extracts["herberger"].quarantined_by_rule == {"overlapping_period": 1}


def test_income_months(tmp_path):
    raw = delivery(tmp_path / "raw")
    _append(raw / "forsoergelse.csv", "610190-1235;2023-13;loen;1000;0;0")
    _append(raw / "forsoergelse.csv", "610190-1235;2023-05;loen;1000;0;0")
    _append(raw / "forsoergelse.csv", "610190-1235;2023-01;loen;1000;0;0")
    report = run_ingest(raw, tmp_path / "processed", row_rule_params())
    assert report.extracts["forsoergelse"].quarantined_by_rule == {"bad_date": 1, "duplicate_key": 1, "future_date": 1}
