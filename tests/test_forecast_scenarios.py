"""Scenarios are data: parsed from the parameters, typos are clear errors."""
from pathlib import Path

import pytest

from analysis.forecast.scenarios import KNOBS, ScenarioError, load_scenarios, parse_scenarios
from analysis.params import load_params


def test_default_scenarios_load():
    scenarios = load_scenarios(load_params())
    assert list(scenarios) == ["baseline", "trend_continues", "reform", "low_housing", "high_inflow"]
    assert scenarios["trend_continues"].knobs.continue_trend and not scenarios["baseline"].knobs.continue_trend
    assert scenarios["reform"].convert_places is True
    assert scenarios["reform"].knobs.extra_dwellings_per_year == 75
    assert scenarios["baseline"].knobs.inflow_factor == 1.0
    assert all(s.label_da for s in scenarios.values())


def test_typo_names_scenario_key_and_valid_keys():
    with pytest.raises(ScenarioError) as err:
        parse_scenarios({"baseline": {}, "reform": {"long_stay_exit_factr": 2.0}})
    message = str(err.value)
    assert "'reform'" in message and "'long_stay_exit_factr'" in message
    assert "Did you mean 'long_stay_exit_factor'" in message
    assert all(k in message for k in KNOBS)


def test_typo_in_override_file_is_caught(tmp_path: Path):
    f = tmp_path / "scen.yml"
    f.write_text("scenarios:\n  definitions:\n    baseline: {}\n    more_homes:\n      housing_suply_factor: 1.5\n",
                 encoding="utf-8")
    with pytest.raises(ScenarioError, match="more_homes.*housing_suply_factor"):
        load_scenarios(load_params(override_files=[f]))


def test_analyst_can_add_a_scenario(tmp_path: Path):
    f = tmp_path / "scen.yml"
    f.write_text("scenarios:\n  definitions:\n    baseline: {}\n    more_homes:\n      label_da: Flere boliger\n"
                 "      housing_supply_factor: 1.5\n", encoding="utf-8")
    scenarios = load_scenarios(load_params(override_files=[f]))
    assert scenarios["more_homes"].knobs.housing_supply_factor == 1.5


@pytest.mark.parametrize("levers, fragment", [
    ({"inflow_factor": "high"}, "invalid value"),
    ({"inflow_factor": -1}, "invalid value"),
    ({"convert_places": "yes"}, "invalid value"),
])
def test_bad_values(levers, fragment):
    with pytest.raises(ScenarioError, match=fragment):
        parse_scenarios({"baseline": levers})


def test_baseline_required():
    with pytest.raises(ScenarioError, match="baseline"):
        parse_scenarios({"reform": {}})


def test_scenario_table_shows_lever_values_in_danish():
    from analysis.report.forecast_report import scenario_levers
    from analysis.params import load_params

    table = scenario_levers(load_params())
    assert list(table.columns) == ["Scenarie", "Ændringer i forhold til basis"]  # no ids for management
    words = table.set_index("Scenarie")["Ændringer i forhold til basis"]
    assert words["Basis: det seneste års niveau"] == "ingen"
    assert words["Høj tilgang"] == "Tilgang af nye borgere: 1,25 gange basis"
    reform = words["Reform: kortere ophold, konvertering og planlagte boliger"]
    assert "Screenede § 110-pladser omlægges til § 107: ja" in reform and "Ekstra boliger pr. år: 75" in reform
    analysts = scenario_levers(load_params(), with_ids=True).set_index("Id")["Parametre"]
    assert "convert_places = ja" in analysts["reform"] and "s107_referral_factor = 1,5" in analysts["reform"]
    assert analysts["high_inflow"] == "inflow_factor = 1,25"


def test_every_lever_has_a_danish_name():
    """A lever without one would print its parameter key to management."""
    from analysis.forecast.scenarios import KNOBS
    from analysis.params import load_params

    assert set(KNOBS) - {"label_da"} <= set(load_params()["scenarios.levers_da"])
