"""Spor 2: shelter places by paragraph, shelter and ownership; §110 occupancy; §110→§107 conversion screening."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from analysis.clean.episodes import previous_max
from analysis.indicators.common import frame, history, month_start, stock
from analysis.ingest.schemas import OWNERSHIP
from analysis.months import day_after, period_label
from analysis.params import Params

PARAGRAPHS = ("110", "107", "108")
ONE_DAY = pd.Timedelta(days=1)


def shelter_key(shelters: pd.DataFrame) -> pd.Series:
    """Breakdown of by-shelter indicators: ``<paragraf>:<herberg_id>`` (a shelter may have places under several paragraphs)."""
    return shelters["paragraph"].astype(str) + ":" + shelters["shelter_id"].astype(str)


def _valid(shelters: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Validity as an open interval: places with ``gyldig_til = D`` are still valid at the end of D."""
    return shelters["valid_from"], shelters["valid_to"] + ONE_DAY


def places(shelters: pd.DataFrame, month: pd.Period, params: Params) -> pd.DataFrame:
    """Places valid on the last day of each month, by paragraph, by shelter and by ownership."""
    months = history(month, params)
    start, end = _valid(shelters)
    keys = shelter_key(shelters)
    return pd.concat([
        stock("shelter_places", start, end, months, shelters["paragraph"], PARAGRAPHS, shelters["places"]),
        stock("shelter_places_by_shelter", start, end, months, keys, sorted(keys.unique()), shelters["places"]),
        stock("shelter_places_by_ownership", start, end, months, shelters["ownership"], OWNERSHIP, shelters["places"]),
    ], ignore_index=True)


def conversion_screening(shelters: pd.DataFrame, month: pd.Period, params: Params) -> pd.DataFrame:
    """§110 places screened for conversion to §107 and those found convertible, per shelter and in total."""
    s110 = shelters[(shelters["paragraph"] == "110") & shelters["convertible_places"].notna()]
    start, end = _valid(s110)
    keys = shelter_key(s110)
    months = history(month, params)
    return pd.concat([
        stock("screened_places", start, end, months, keys, sorted(keys.unique()), s110["places"]),
        stock("convertible_places", start, end, months, keys, sorted(keys.unique()), s110["convertible_places"].astype(float)),
    ], ignore_index=True)


def _days(values: pd.Series) -> np.ndarray:
    """Day numbers of (midnight) dates."""
    return values.to_numpy(dtype="datetime64[D]").astype(np.int64)


def _overlap_days(start: np.ndarray, stop: np.ndarray, lo: pd.Timestamp, hi: pd.Timestamp) -> np.ndarray:
    """Days of ``[start, stop)`` (day numbers) inside ``[lo, hi)``."""
    lo_day, hi_day = (np.datetime64(t.date(), "D").astype(np.int64) for t in (lo, hi))
    return np.maximum(np.minimum(stop, hi_day) - np.maximum(start, lo_day), 0)


def person_night_intervals(stays: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    """Each person's shelter nights as disjoint ``[start, stop)`` intervals (overlapping stays merged, open ones censored).

    Merged as episodes are chained: rows sorted by integer person codes, a running maximum of the stops per person
    (sorting and grouping by the person_id text was most of the occupancy indicator's time).
    """
    start = stays["admitted"]
    discharged = stays["discharged"]
    stop = discharged.where(discharged.isna() | (discharged > start), start + ONE_DAY).fillna(day_after(month))
    person = pd.factorize(stays["person_id"])[0]
    first, last = _days(start), _days(stop)
    order = np.lexsort((first, person))
    first, last, person = first[order], last[order], person[order]
    merged_from = np.flatnonzero(first > previous_max(last, person))  # stays starting after all earlier nights
    last = np.maximum.reduceat(last, merged_from) if len(merged_from) else last
    return pd.DataFrame({
        "person_id": stays["person_id"].to_numpy()[order][merged_from],
        "start": first[merged_from].astype("datetime64[D]").astype("datetime64[ns]"),
        "stop": last.astype("datetime64[D]").astype("datetime64[ns]"),
    })


def occupancy(stays: pd.DataFrame, shelters: pd.DataFrame, month: pd.Period, params: Params) -> pd.DataFrame:
    """§110 person-nights in the month / (§110 places × days), place-days counted day by day."""
    nights = person_night_intervals(stays, month)
    night_start, night_stop = _days(nights["start"]), _days(nights["stop"])
    s110 = shelters[shelters["paragraph"] == "110"]
    valid_from = _days(s110["valid_from"])
    valid_stop = _days((s110["valid_to"] + ONE_DAY).fillna(pd.Timestamp.max.normalize()))
    places = s110["places"].to_numpy()
    records = []
    for m in history(month, params):  # day numbers, not Timedelta series: the loop runs once per history month
        lo, hi = month_start(m), day_after(m)
        person_nights = _overlap_days(night_start, night_stop, lo, hi).sum()
        place_days = (_overlap_days(valid_from, valid_stop, lo, hi) * places).sum()
        records.append(("shelter_occupancy", period_label(m), "", person_nights / place_days if place_days else np.nan))
    return frame(records)


def build(tables: Mapping[str, pd.DataFrame], month: pd.Period, params: Params) -> pd.DataFrame:
    shelters = tables["shelters"]
    return pd.concat([
        places(shelters, month, params),
        conversion_screening(shelters, month, params),
        occupancy(tables["stays"], shelters, month, params),
    ], ignore_index=True)
