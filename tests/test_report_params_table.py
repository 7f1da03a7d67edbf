"""The Danish parameter table shared by the status memo appendix and the forecast assumptions."""
import datetime as dt

import pytest

from analysis.params import load_params
from analysis.report import forecast_report
from analysis.report.params_table import COLUMNS, params_table, value_text


def _row(df, label):
    rows = df[df["Parameter"] == label]
    assert len(rows) == 1, label
    return rows.iloc[0].to_dict()


def test_hand_checked_rows_and_override_flag():
    df = params_table(load_params(overrides=["disclosure.min_count=10"]))
    assert tuple(df.columns) == COLUMNS
    assert _row(df, "Diskretioneringsgrænse") == {
        "Parameter": "Diskretioneringsgrænse", "Værdi": "10", "Enhed": "personer",
        "Bemærkning": "ændret for denne kørsel",
        "Kilde": "docs/data-contract.md §5: antal på 1–4 personer (og personhændelser) diskretioneres; nul vises. "
                 "Almindelig dansk statistisk praksis (Danmarks Statistiks diskretioneringsregler)."}
    assert _row(params_table(load_params()), "Diskretioneringsgrænse")["Værdi"] == "5"
    assert _row(params_table(load_params()), "Diskretioneringsgrænse")["Bemærkning"] == ""
    pilot = _row(df, "Pilotprojektets startdato")
    assert (pilot["Værdi"], pilot["Enhed"], pilot["Bemærkning"]) == ("1. september 2022", "dato", "Antagelse")
    norm = _row(df, "Rådighedsbeløb, norm")
    assert (norm["Værdi"], norm["Enhed"]) == ("4.000", "kr./md.")
    rate = _row(df, "Statsrefusion, sats")
    assert rate["Værdi"] == "0,5" and "lov nr. 482 af 12. maj 2023" in rate["Kilde"].lower()
    assert "Serviceloven § 176 a" in rate["Kilde"]
    kh = _row(df, "Kontanthjælp, 30 år og derover, uden børn")
    assert kh["Værdi"] == "2023: 11.944; 2024: 12.326"
    assert _row(df, "Refusion af §110-ophold, dagsgrænse")["Værdi"] == "fra 1. oktober 2023: 120; fra 1. april 2026: 90"


def test_assumption_and_override_together():
    df = params_table(load_params(overrides=["payment.disposable_norm=4500"]))
    assert _row(df, "Rådighedsbeløb, norm")["Bemærkning"] == "Antagelse; ændret for denne kørsel"
    assert _row(df, "Rådighedsbeløb, norm")["Værdi"] == "4.500"


@pytest.mark.parametrize("value, unit, text", [
    (1350, "kr/night", "1.350"),
    (0.885, "share", "0,885"),
    (2.0, "factor", "2"),
    (20230201, "integer", "20230201"),
    ("2030-12", "month", "december 2030"),
    (dt.date(2023, 10, 1), "date", "1. oktober 2023"),
    ([6, 12, 24], "months", "6; 12; 24"),
    ({"CTI": 9500, "SEL85": 5000}, "kr/month", "CTI: 9.500; SEL85: 5.000"),
    ({"reform": {"label_da": "Reform", "convert_places": True, "inflow_factor": 1.25}, "baseline": {"label_da": "Basis"}},
     "scenario set", "Reform: convert_places = ja, inflow_factor = 1,25; Basis"),
    ("zero_in_final_year", "x", "zero_in_final_year"),
])
def test_value_text(value, unit, text):
    assert value_text(value, unit) == text


def test_both_reports_use_the_danish_table():
    P = load_params(overrides=["forecast.trend_cap=0.05"])
    memo = params_table(P)
    forecast = forecast_report.assumptions_table(P)
    assert tuple(memo.columns) == tuple(forecast.columns) == COLUMNS
    assert len(memo) == len(P)
    assert "Prognosescenarier" in set(memo["Parameter"]) and "Prognosescenarier" not in set(forecast["Parameter"])
    assert "Diskretioneringsgrænse" not in set(forecast["Parameter"])
    trend = _row(forecast, "Loft over trenden i tilgangen")
    assert (trend["Værdi"], trend["Enhed"], trend["Bemærkning"]) == ("0,05", "andel pr. år", "Antagelse; ændret for denne kørsel")
    english = {p.source for p in P.entries()} - {p.source_da for p in P.entries()}
    assert not set(memo["Kilde"]) & english
