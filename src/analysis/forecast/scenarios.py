"""Scenarios as data: read ``scenarios.definitions`` and check every lever.

An analyst adds or edits scenarios in an override file, without code. A
misspelt lever would otherwise be ignored silently and the report would show
the baseline under a reform label, so unknown keys are an error that names
the scenario and key and lists the valid ones.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, fields
from typing import Any, Mapping

from analysis.forecast.simulate import Knobs

# Lever → what it does, in Danish: the capacity report prints this table for management.
KNOBS: dict[str, str] = {
    "label_da": "scenariets navn i rapporten",
    "inflow_factor": "ganger tilgangen af nye borgere (1 = som estimeret)",
    "inflow_growth": "årlig vækst i tilgangen af nye borgere; tom = ingen, eller den estimerede, hvis tendensen fortsætter",
    "continue_trend": "ja: den estimerede (dæmpede) tendens i tilgangen af nye borgere fortsætter",
    "housing_supply_factor": "ganger antallet af boliger til rådighed for borgere fra herberg",
    "extra_dwellings_per_year": "ekstra boliger pr. år oven i dette udbud",
    "long_stay_exit_factor": "ganger afgangsraten for ophold ud over refusionens dagegrænse",
    "s107_referral_factor": "ganger andelen af udskrivninger til § 107",
    "convert_places": "ja: § 110-pladser, der er screenet egnede, omlægges til § 107-pladser",
}
REQUIRED = ("baseline",)


class ScenarioError(ValueError):
    """A scenario definition that cannot be used as written."""


@dataclass(frozen=True)
class Scenario:
    name: str
    label_da: str
    knobs: Knobs
    convert_places: bool


def _check_value(name: str, key: str, value: Any) -> None:
    if key == "label_da":
        ok = isinstance(value, str)
    elif key in ("convert_places", "continue_trend"):
        ok = isinstance(value, bool)
    elif key == "inflow_growth":
        ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    if not ok:
        raise ScenarioError(f"scenario '{name}': '{key}' has an invalid value {value!r} ({KNOBS[key]})")


def parse_scenarios(definitions: Mapping[str, Any]) -> dict[str, Scenario]:
    """Validated scenarios in file order; every lever not given keeps its baseline default."""
    if not isinstance(definitions, Mapping):
        raise ScenarioError("scenarios.definitions must be a mapping of scenario name to levers")
    missing = [r for r in REQUIRED if r not in definitions]
    if missing:
        raise ScenarioError(f"scenarios.definitions lacks {', '.join(missing)} (the comparison base)")
    knob_fields = {f.name for f in fields(Knobs)}
    out: dict[str, Scenario] = {}
    for name, levers in definitions.items():
        levers = levers or {}
        if not isinstance(levers, Mapping):
            raise ScenarioError(f"scenario '{name}' must be a mapping of levers, got {levers!r}")
        for key, value in levers.items():
            if key not in KNOBS:
                close = difflib.get_close_matches(str(key), list(KNOBS), n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                raise ScenarioError(
                    f"scenario '{name}': unknown key '{key}'.{hint} Valid keys: {', '.join(KNOBS)}"
                )
            _check_value(name, key, value)
        knobs = Knobs(**{k: v for k, v in levers.items() if k in knob_fields})
        out[str(name)] = Scenario(str(name), levers.get("label_da", str(name)), knobs, bool(levers.get("convert_places", False)))
    return out


def load_scenarios(params) -> dict[str, Scenario]:
    return parse_scenarios(params["scenarios.definitions"])
