"""Spor 2 builders: places valid at month end, occupancy by hand, conversion screening."""
import pandas as pd

from analysis.indicators import shelters
from analysis.indicators.common import value_of as value
from analysis.params import load_params

T = pd.Timestamp
M = pd.Period("2023-02", "M")
P = load_params(overrides={"definitions.history_months": 2})


def register():
    return pd.DataFrame({
        "shelter_id": ["h1", "h1", "h2", "h3"],
        "name": ["Herbergscentret", "Herbergscentret", "Gl. Køge Landevej", "Bocentret"],
        "ownership": ["kommunal", "kommunal", "selvejende", "kommunal"],
        "paragraph": ["110", "107", "110", "110"],
        "places": [20, 5, 10, 8],
        "valid_from": [T("2020-01-01"), T("2023-02-01"), T("2020-01-01"), T("2023-02-15")],
        "valid_to": [pd.NaT, pd.NaT, T("2023-01-31"), pd.NaT],
        "convertible_places": pd.array([6, pd.NA, 4, pd.NA], dtype="Int64"),
    })


def test_places_valid_on_last_day_including_gyldig_til():
    out = shelters.places(register(), M, P)
    assert value(out, "shelter_places", "2023-01", "110") == 30  # h2 valid through 31 January
    assert value(out, "shelter_places", "2023-02", "110") == 28
    assert value(out, "shelter_places", "2023-02", "107") == 5
    assert value(out, "shelter_places", "2023-02", "108") == 0
    assert value(out, "shelter_places_by_shelter", "2023-02", "107:h1") == 5
    assert value(out, "shelter_places_by_shelter", "2023-02", "110:h2") == 0
    assert value(out, "shelter_places_by_ownership", "2023-02", "kommunal") == 33


def test_conversion_screening_only_screened_110_rows():
    out = shelters.conversion_screening(register(), M, P)
    assert value(out, "screened_places", "2023-01") == 30
    assert value(out, "convertible_places", "2023-01") == 10
    assert value(out, "convertible_places", "2023-02") == 6
    assert value(out, "convertible_places", "2023-02", "110:h1") == 6


def test_occupancy_person_nights_over_place_days():
    stays = pd.DataFrame({
        "person_id": ["a", "a", "b", "c"],
        "admitted": [T("2023-01-30"), T("2023-02-05"), T("2023-02-10"), T("2023-02-20")],
        "discharged": [T("2023-02-10"), T("2023-02-08"), T("2023-02-10"), pd.NaT],
    })
    out = shelters.occupancy(stays, register(), M, P)
    # a: 1–10 Feb = 9 nights (the overlapping stay adds none); b: 1 night; c: 20 Feb–1 Mar censored = 9 nights
    # place-days: h1 20 × 28 + h3 8 × 14 (from 15 Feb) = 672
    assert value(out, "shelter_occupancy", "2023-02") == (9 + 1 + 9) / 672
    # January: a has 2 nights (30, 31 Jan); places h1 20 × 31 + h2 10 × 31
    assert value(out, "shelter_occupancy", "2023-01") == 2 / 930


def _reference_intervals(stays, month):
    """Merged night intervals by sorting and grouping the person_id text (the definition, plainly)."""
    from analysis.months import day_after

    start, discharged = stays["admitted"], stays["discharged"]
    stop = discharged.where(discharged.isna() | (discharged > start), start + pd.Timedelta(days=1)).fillna(day_after(month))
    s = pd.DataFrame({"person_id": stays["person_id"], "start": start, "stop": stop}).sort_values(["person_id", "start"])
    prev_reach = s.groupby("person_id")["stop"].cummax().groupby(s["person_id"]).shift()
    block = (prev_reach.isna() | (s["start"] > prev_reach)).cumsum()
    return s.groupby(block).agg(person_id=("person_id", "first"), start=("start", "min"), stop=("stop", "max"))


def test_night_intervals_agree_with_plain_pandas():
    import numpy as np

    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(0, 25))
        admitted = T("2023-01-01") + pd.to_timedelta(rng.integers(0, 60, n), "D")
        discharged = pd.Series(admitted + pd.to_timedelta(rng.integers(-2, 20, n), "D")).where(rng.random(n) > 0.2)
        stays = pd.DataFrame({"person_id": rng.choice(list("abcd"), n).astype(object), "admitted": admitted,
                              "discharged": discharged.astype("datetime64[ns]")})
        key = ["person_id", "start"]
        got = shelters.person_night_intervals(stays, M).sort_values(key, ignore_index=True)
        expected = _reference_intervals(stays, M).sort_values(key, ignore_index=True)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
