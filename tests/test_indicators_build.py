"""The core table and the assembled, suppressed table."""
import pandas as pd
import pytest

from analysis.indicators.build import IndicatorTableError, assemble, build_core_indicators
from analysis.indicators.catalogue import load_catalogue
from analysis.indicators.common import value_of as value
from analysis.params import load_params

T = pd.Timestamp
M = pd.Period("2023-02", "M")
P = load_params()


def tiny_tables():
    return {
        "dwellings": pd.DataFrame({"received": [T("2023-01-05"), T("2022-06-01")], "rent": [4600.0, 6000.0],
                                   "subsidy_scheme": ["ingen", "ingen"]}),
        "tenancies": pd.DataFrame({"person_id": ["p"], "moved_in": [T("2023-02-10")],
                                   "subsidy_scheme": ["midlertidigt_statsligt"]}),
        "shelters": pd.DataFrame({"shelter_id": ["s"], "ownership": ["kommunal"], "paragraph": ["110"], "places": [10],
                                  "valid_from": [T("2020-01-01")], "valid_to": [pd.NaT],
                                  "convertible_places": pd.array([pd.NA], dtype="Int64")}),
        "stays": pd.DataFrame({"person_id": ["p"], "shelter_id": ["s"], "admitted": [T("2023-02-01")],
                               "discharged": [T("2023-02-08")], "discharge_category": ["egen_bolig"],
                               "acting_municipality": ["101"]}),
        "episodes": pd.DataFrame({"person_id": ["p"], "start": [T("2023-02-01")], "end": [T("2023-02-08")], "nights": [7],
                                  "discharge_category": ["egen_bolig"]}),
        "support": pd.DataFrame({"method": ["CTI"], "provider": ["kommunal"], "start": [T("2023-02-09")], "end": [pd.NaT]}),
        "referrals": pd.DataFrame({"person_id": ["p"], "referred": [T("2023-01-02")], "scheme": ["udslusningsbolig"]}),
    }


QUALITY = {"extracts": {"ophold": {"rows_read": 3, "rows_clean": 2, "rows_quarantined": 1}}}


def test_core_table_has_history_floats_and_catalogue_ids():
    core = build_core_indicators(tiny_tables(), QUALITY, M, P)
    assert list(core.columns) == ["indicator", "period", "breakdown", "value"]
    assert core["value"].dtype == float
    months = set(core.loc[core.indicator == "persons_in_shelter", "period"])
    assert months == {str(M - k) for k in range(24)}
    assert {"2021", "2022", "2023"} <= set(core.loc[core.indicator == "dwellings_received", "period"])
    assert set(core.indicator) <= set(load_catalogue())
    assert value(core, "dwellings_received", "2023-01", "rent_4500_5000") == 1


def test_assemble_suppresses_person_counts_only():
    core = build_core_indicators(tiny_tables(), QUALITY, M, P)
    full, published = assemble([core], load_catalogue(), P)
    assert value(full, "pilot_referred", "2023-02") == 1
    row = published[(published.indicator == "pilot_referred") & (published.period == "2023-02")].iloc[0]
    assert row["suppressed"] and pd.isna(row["value"]) and row["suppression"] == "primary"
    assert value(published, "episode_length_median_12m", "2023-02") != value(published, "episode_length_median_12m", "2023-02")
    assert value(published, "dwellings_received", "2023-01", "rent_4500_5000") == 1
    assert value(published, "rows_quarantined", "2023-02", "ophold") == 1
    assert value(published, "persons_in_shelter", "2023-02") == 0


def test_rows_outside_the_catalogue_are_refused():
    bad = pd.DataFrame({"indicator": ["dwellings_received", "nonsense"], "period": ["2023-02"] * 2,
                        "breakdown": ["rent_9000", ""], "value": [1.0, 2.0]})
    with pytest.raises(IndicatorTableError) as err:
        assemble([bad], load_catalogue(), P)
    assert "nonsense: not in the catalogue" in str(err.value)
    assert "rent_9000" in str(err.value)


def test_published_table_says_why_a_cell_is_hidden():
    rows = pd.DataFrame({"indicator": ["outflow"] * 3 + ["episodes_ended_12m", "episode_length_median_12m"],
                         "period": ["2023-02"] * 5, "breakdown": ["", "to_housing", "other", "", ""],
                         "value": [12.0, 2.0, 10.0, 3.0, 40.0]})
    _, published = assemble([rows], load_catalogue(), P)
    # sorted: median (base 3 → derived), ended_12m 3, outflow total 12, other 10 (secondary), to_housing 2
    assert published["suppression"].tolist() == ["derived", "primary", "", "secondary", "primary"]
