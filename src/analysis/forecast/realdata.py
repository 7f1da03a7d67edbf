"""Loaders for the real public series in ``../shared/realdata`` (read in place, never copied).

NYC DHS daily census (NYC Open Data terms) and Toronto Shelter System Flow
(Open Government Licence – Toronto); see that folder's SOURCES.md for origin
and quirks. Used only to measure forecast accuracy on reality.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from analysis.context import project_root

NYC_FILE = "nyc_dhs_daily_report.csv"
NYC_EXTENSION = "extras/nyc_dhs_daily_census_tidy_2021-03_2025-12.csv"
TORONTO_FILE = "toronto_shelter_system_flow_2018-01_2024-08.csv"


def realdata_dir() -> Path:
    """``$ANALYSIS_REALDATA`` or the ``shared/realdata`` folder beside the repository."""
    env = os.environ.get("ANALYSIS_REALDATA")
    return Path(env) if env else project_root().parent / "shared" / "realdata"


# The main file's columns the tidy 2021–2025 extract continues, with its measure names.
NYC_TIDY_MEASURES = {
    "Total Individuals in Shelter": "total_individuals_in_shelter",
    "Total Single Adults in Shelter": "total_single_adults_in_shelter",
    "Families with Children in Shelter": "families_with_children_in_shelter",
    "Adult Families in Shelter": "adult_families_in_shelter",
}
# Series the combined forecast's rules were not chosen on (docs/forecast.md, "Held-out check"): Toronto's
# population groups with at least four years of data, and NYC's household types the tidy extract continues.
HELD_OUT_TORONTO = ("Chronic", "Families", "Non-refugees", "Refugees", "Single Adult", "Youth")
HELD_OUT_NYC = ("Total Single Adults in Shelter", "Families with Children in Shelter", "Adult Families in Shelter")


def nyc_census(column: str = "Total Individuals in Shelter", extend: bool = True) -> pd.Series:
    """Daily census, oldest first; duplicated dates dropped (they are identical), gaps left as gaps.

    With ``extend``, days after the main file come from the tidy 2021–2025 extract
    (it matches the main file exactly where they overlap) for the columns it continues.
    """
    raw = pd.read_csv(realdata_dir() / NYC_FILE)
    raw.columns = raw.columns.str.strip()
    raw["date"] = pd.to_datetime(raw["Date of Census"], format="%m/%d/%Y")
    s = raw.drop_duplicates("date").set_index("date")[column].sort_index().astype(float)
    extra_file = realdata_dir() / NYC_EXTENSION
    if extend and column in NYC_TIDY_MEASURES and extra_file.exists():
        extra = pd.read_csv(extra_file, parse_dates=["date_of_census"])
        extra = extra[extra["measure"] == NYC_TIDY_MEASURES[column]]
        later = extra.set_index("date_of_census")["count"].astype(float)
        s = pd.concat([s, later[later.index > s.index.max()]]).sort_index()
    return s.rename("count")


def toronto_flows(group: str = "All Population") -> pd.DataFrame:
    """Monthly flows for one population group, with inflow and outflow totals.

    inflow = newly_identified + returned_from_housing + returned_to_shelter;
    outflow = moved_to_housing + became_inactive; stock = actively_homeless.
    """
    raw = pd.read_csv(realdata_dir() / TORONTO_FILE)
    df = raw[raw["population_group"] == group].copy()
    df["month"] = pd.to_datetime(df["date.mmm.yy."], format="%b-%y")
    df = df.set_index("month").sort_index()
    return pd.DataFrame({
        "stock": df["actively_homeless"].astype(float),
        "inflow": (df["newly_identified"] + df["returned_from_housing"] + df["returned_to_shelter"]).astype(float),
        "outflow": (df["moved_to_housing"] + df["became_inactive"]).astype(float),
    })
