"""The forecast report's places charts: one function for § 110 and § 107, against today's places."""
import pandas as pd
import pytest

from analysis.params import load_params
from analysis.report import forecast_report
from analysis.report.published import Figures

P = load_params()
M = pd.Period("2026-10", "M")


def _monthly(measure: str) -> pd.DataFrame:
    periods = ["2030-11", "2030-12"]
    return pd.DataFrame({"scenario": "baseline", "measure": measure, "breakdown": "", "period": periods,
                         "median": [120.0, 125.0], "lo80": [110.0, 112.0], "hi80": [130.0, 141.0]})


@pytest.mark.parametrize("paragraph, today, extra",
                         [("110", 434.0, "ved en belægning på"), ("107", 92.0, "(midlertidigt botilbud)")])
def test_places_chart_reads_todays_places_from_the_published_table(monkeypatch, paragraph, today, extra):
    shown = []
    monkeypatch.setattr(forecast_report.out, "figure", lambda fig, name, alt, caption: shown.append((name, alt, caption)))
    figs = Figures(pd.DataFrame([("shelter_places", "2026-10", paragraph, today)],
                                columns=["indicator", "period", "breakdown", "value"]), M, 5)
    forecast_report.show_places(_monthly(f"places_{paragraph}_needed"), figs, P, paragraph)
    [(name, alt, caption)] = shown
    assert name == f"prognose_pladser_{paragraph}"
    assert alt.startswith("Linjediagram med bånd fra november 2030 til december 2030")
    assert "125 pladser (80 %-interval 112–141)" in alt
    assert alt.endswith(f"Den prikkede linje er de {today:.0f} pladser i dag.")
    assert caption.startswith(f"Pladsbehov § {paragraph} ") and extra in caption and "december 2030" in caption


def test_places_chart_without_todays_places_invents_none(monkeypatch):
    shown = []
    monkeypatch.setattr(forecast_report.out, "figure", lambda fig, name, alt, caption: shown.append(alt))
    empty = Figures(pd.DataFrame(columns=["indicator", "period", "breakdown", "value"]), M, 5)
    forecast_report.show_places(_monthly("places_107_needed"), empty, P, "107")
    assert shown[0].endswith("Den prikkede linje er de – pladser i dag.")


def test_intro_counts_the_scenarios_of_the_parameter_file_and_names_a_bill_before_adoption():
    text = forecast_report.intro_markdown(M, P)
    assert "til udgangen af 2030 i fem scenarier" in text and "**oktober 2026**" in text
    assert "lovforslaget" not in text  # adopted by 2026
    three = dict(list(P["scenarios.definitions"].items())[:3])
    assert "i tre scenarier" in forecast_report.intro_markdown(M, load_params(overrides={"scenarios.definitions": three}))
    assert "lovforslaget pr. februar 2023" in forecast_report.intro_markdown(pd.Period("2023-02", "M"), P)


def test_day_limits_come_from_the_parameter_file_the_cost_model_reads():
    text = "120 dage pr. løbende år fra 1. oktober 2023 og 90 dage fra 1. april 2026"
    assert forecast_report.day_limits_text(P) == text
    assert f"refunderes i højst {text})" in forecast_report.intro_markdown(M, P)
    assert f"grænsen er {text}." in forecast_report.reimbursement_markdown(P)
    three = load_params(overrides={"reimbursement.shelter_day_limits": [
        {"from": "2023-10-01", "days": 120}, {"from": "2026-04-01", "days": 90}, {"from": "2028-01-01", "days": 60}]})
    assert forecast_report.day_limits_text(three) == ("120 dage pr. løbende år fra 1. oktober 2023, 90 dage fra "
                                                      "1. april 2026 og 60 dage fra 1. januar 2028")


def test_method_text_counts_the_simulations_of_the_parameter_file():
    assert "Hvert scenarie er beregnet 500 gange" in forecast_report.method_markdown(P)
    more = load_params(overrides={"forecast.paths": 2000})
    assert "Hvert scenarie er beregnet 2.000 gange" in forecast_report.method_markdown(more)


def test_backtest_texts_name_the_horizon_of_the_parameter_file():
    assert "fremskriver 6 måneder" in forecast_report.backtest_intro_markdown(6)
    assert forecast_report.backtest_alt(6).endswith("gav 6 måneder før.") and "12" not in forecast_report.backtest_alt(6)


def _reference(rows: list[tuple[str, str, str, float, float, float]]) -> pd.DataFrame:
    """(series, label, method, mase at 12, coverage80, coverage95); 30 origins, August 2013 to December 2025."""
    return pd.DataFrame([{"series": s, "label_da": label, "method": m, "horizon": "12", "mase": mase,
                          "coverage80": c80, "coverage95": c95, "origins": 30, "first": "2013-08", "last": "2025-12"}
                         for s, label, m, mase, c80, c95 in rows])


def test_reference_table_puts_the_forecast_beside_the_best_standard_method_by_mase():
    ref = _reference([("a", "By A", "naive", 1.20, 0.5, 0.6), ("a", "By A", "drift", 1.00, 0.5, 0.6),
                      ("a", "By A", "model", 1.04, 0.784, 0.955), ("a", "By A", "littles_law", 0.10, None, None),
                      ("a", "By A", "model", 9.9, 0.0, 0.0)])  # a second 'model' row at another horizon is not read:
    ref.loc[4, "horizon"] = "3"
    [row] = forecast_report.reference_table(ref, 12).to_dict("records")
    assert row == {"Serie": "By A, 2013–2025", "Prognosestarter": 30, "MASE, prognosen": "1,04",
                   "Bedste standardmetode": "Lineær tendens (drift)", "MASE, bedste": "1,00",
                   "I 80 %-interval": "78 %", "I 95 %-interval": "96 %"}  # Little's law is no standard method


@pytest.mark.parametrize("model_a, expected", [(1.05, "på én af de to serier"), (1.051, "på ingen af serierne")])
def test_reference_text_counts_ties_within_0_05_and_names_where_the_band_fell_short(model_a, expected):
    """By hand: series A's best standard method has MASE 1.00, so 1.05 ties and 1.051 loses; series B's
    forecast (2.0) loses to 1.5 either way. Coverage 0.65 (A, below 0.7, named) and 0.80 (B)."""
    ref = _reference([("a", "By A", "drift", 1.00, 0.5, 0.5), ("a", "By A", "model", model_a, 0.65, 0.9),
                      ("b", "By B", "naive", 1.50, 0.5, 0.5), ("b", "By B", "model", 2.00, 0.80, 0.9)])
    text = forecast_report.reference_text(ref, 12)
    assert f"standardmetoder {expected} (en forskel i MASE på højst 0,05" in text
    assert "inden for 80 %-intervallet i 65–80 % af tilfældene" in text
    assert "sjældnere (By A)," in text and "By B)" not in text


def test_reference_text_without_a_short_band_says_nothing_of_a_break():
    ref = _reference([("a", "By A", "naive", 1.0, 0.5, 0.5), ("a", "By A", "model", 0.9, 0.8, 0.95),
                      ("b", "By B", "naive", 1.0, 0.5, 0.5), ("b", "By B", "model", 0.9, 0.8, 0.95)])
    text = forecast_report.reference_text(ref, 12)
    assert "standardmetoder på begge serier (" in text
    assert "i 80 % af tilfældene" in text and "brud" not in text


def test_reference_text_of_one_series():
    ref = _reference([("a", "By A", "naive", 1.0, 0.5, 0.5), ("a", "By A", "model", 1.2, 0.8, 0.95)])
    assert "standardmetoder ikke på serien (" in forecast_report.reference_text(ref, 12)
