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
