"""Budget tables: current year complete and labelled, budget + three outlook years, one price level, ±20 %."""
import pandas as pd
import pytest

from analysis.params import load_params
from analysis.report import budget
from analysis.report.published import Figures

P = load_params()
M = pd.Period("2026-10", "M")


def _costs(rows):
    """(scenario, period, measure, median) rows of the forecast's total costs."""
    return pd.DataFrame([{"scenario": s, "period": p, "measure": m, "breakdown": "total", "median": v}
                         for s, p, m, v in rows], columns=["scenario", "period", "measure", "breakdown", "median"])


def test_budget_years_are_the_next_year_and_three_outlook_years():
    assert budget.budget_years(M) == [2027, 2028, 2029, 2030]


def test_cost_table_completes_the_current_year_and_states_one_price_level():
    scenarios = list(P["scenarios.definitions"])
    costs = _costs([(s, p, m, 10e6) for s in scenarios for p in ("2026", "2027", "2028", "2029", "2030")
                    for m in ("cost_net_new", "cost_extra_cost")])
    history = pd.DataFrame({"year": [2026, 2026, 2025], "area": ["110", "107", "110"],
                            "gross": 0.0, "net_old": 0.0, "net_new": [30e6, 20e6, 99e6], "extra_cost": [1e6, 2e6, 9e6]})
    table = budget.cost_table(costs, history, P, M).set_index("Beløb og scenarie")
    current = "2026 (jan.–okt. registre, nov.–dec. prognose)"
    assert list(table.columns) == [current, "Budget 2027", "Overslag 2028", "Overslag 2029", "Overslag 2030"]
    factor = budget.price_factor(P, 2027)
    assert factor == pytest.approx(P["price_index.by_year"][2026] * 1.02 / P["price_index.by_year"][2026])
    mio = lambda v: f"{v * factor / 1e6:.1f}".replace(".", ",")
    # registers January-October (30 + 20) plus the forecast for November-December (10), in 2027 prices
    assert table.loc["Nettoudgift, basis", current] == mio(60e6)
    assert table.loc["Meromkostning, basis", current] == mio(13e6)
    assert table.loc["Nettoudgift, basis", "Budget 2027"] == mio(10e6)
    assert table.loc["Nettoudgift, basis med 20 % lavere enhedspriser", "Budget 2027"] == mio(8e6)
    assert table.loc["Nettoudgift, basis med 20 % højere enhedspriser", "Overslag 2030"] == mio(12e6)
    assert "" not in table.columns and table.index.name


def test_a_december_month_has_no_partial_year():
    assert budget.cost_table(_costs([]), pd.DataFrame(columns=["year", "net_new", "extra_cost"]), P,
                             pd.Period("2026-12", "M")).columns[1] == "2026"


def test_unit_prices_are_flagged_as_assumptions_at_both_price_levels():
    table = budget.unit_price_table(P, M).set_index("Enhedspris")
    row = table.loc["§ 110-herberg, pr. overnatning"]
    assert row["2026-priser"] == "1.350 kr." and row["2027-priser"] == "1.377 kr." and row["Grundlag"] == "antagelse"


def test_needs_set_against_today_and_last_years_supply():
    rows = [("shelter_places", "2026-10", "107", 92.0), ("shelter_places", "2026-10", "110", 434.0),
            ("forecast_places_107", "2027", "baseline", 118.0), ("forecast_places_107", "2027", "baseline_lo80", 109.0),
            ("forecast_places_107", "2027", "baseline_hi80", 129.0),
            ("dwellings_received", "2025", "", 884.0), ("dwellings_received", "2025", "rent_4500_5000", 90.0)]
    rows += [("support_started", f"2025-{k:02d}", "", 10.0) for k in range(1, 13)]
    table = pd.DataFrame(rows, columns=["indicator", "period", "breakdown", "value"]).assign(suppressed=False)
    needs = budget.needs_table(Figures(table, M, 5), "2030").set_index("Behov")
    assert needs.loc["§ 107-pladser (gennemsnit over året)", "I dag"] == "92"
    assert needs.loc["§ 107-pladser (gennemsnit over året)", "Behov 2027"] == "118 (109–129)"
    assert needs.loc["§ 107-pladser (gennemsnit over året)", "Behov 2030"] == "–"
    assert needs.loc["Boliger til borgere fra herberg, pr. år", "I dag"] == "884 modtaget i 2025, heraf 90 til 4.500–5.000 kr."
    assert needs.loc["Nye bostøtteforløb, pr. år", "I dag"] == "120 startet i 2025"


def test_rules_are_a_bill_before_the_law_was_adopted():
    assert "lovforslaget" in budget.rules_note(pd.Period("2023-02", "M"), P)
    assert budget.rules_note(pd.Period("2023-06", "M"), P) == ""
