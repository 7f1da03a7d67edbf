"""Spor 1: affordable dwellings received, subsidised dwellings let, permanent-subsidy new builds."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from analysis.indicators.common import (
    as_dates, cumulative, frame, history, month_end, monthly_and_yearly, rolling_counts, year_start,
)
from analysis.months import period_label
from analysis.params import Params

RENT_BANDS = ("rent_lt_4500", "rent_4500_5000", "rent_gt_5000")


def rent_band(rent: pd.Series, params: Params) -> pd.Series:
    """Band of the rent excl. utilities; the middle band is closed at both edges (data contract §4).

    The ids keep the memo's 4.500/5.000 names; the edges themselves are parameters.
    """
    lower, upper = float(params["definitions.rent_band_lower"]), float(params["definitions.rent_band_upper"])
    band = np.select([rent < lower, rent <= upper], RENT_BANDS[:2], RENT_BANDS[2])
    return pd.Series(band, index=rent.index).where(rent.notna())


def dwellings_received(dwellings: pd.DataFrame, month: pd.Period, params: Params) -> pd.DataFrame:
    """Dwellings received per month and year by rent band, plus year-to-date per month (for 'same period last year')."""
    months = history(month, params)
    band = rent_band(dwellings["rent"], params)
    received = as_dates(dwellings["received"])
    per_month = monthly_and_yearly("dwellings_received", received, months, band, RENT_BANDS, total=True)
    year_to_date = rolling_counts("dwellings_received_ytd", received, months, year_start, band, RENT_BANDS, total=True)
    return pd.concat([per_month, year_to_date], ignore_index=True)


def subsidised_dwellings_allocated(tenancies: pd.DataFrame, month: pd.Period, params: Params) -> pd.DataFrame:
    """Move-ins to dwellings with temporary state subsidy, cumulative to the end of each month."""
    state = tenancies["subsidy_scheme"] == "midlertidigt_statsligt"
    return cumulative("subsidised_dwellings_allocated", tenancies.loc[state, "moved_in"], history(month, params))


def permanent_subsidy(dwellings: pd.DataFrame, month: pd.Period, params: Params) -> pd.DataFrame:
    """Permanent-subsidy new builds received up to M: count, median rent before/after the reduction, count above the ceiling."""
    perm = dwellings[dwellings["subsidy_scheme"] == "permanent"]
    reduction, ceiling = float(params["permanent_subsidy.monthly_reduction"]), float(params["permanent_subsidy.rent_ceiling"])
    received = as_dates(perm["received"])
    records = []
    for m in history(month, params):
        rent = perm.loc[received <= month_end(m), "rent"].dropna()
        after = rent - reduction
        p = period_label(m)
        records += [
            ("permanent_subsidy_dwellings", p, "", len(rent)),
            ("permanent_subsidy_rent_median", p, "before_reduction", rent.median() if len(rent) else np.nan),
            ("permanent_subsidy_rent_median", p, "after_reduction", after.median() if len(rent) else np.nan),
            ("permanent_subsidy_above_ceiling", p, "", int((after > ceiling).sum())),
        ]
    return frame(records)


def build(tables: Mapping[str, pd.DataFrame], month: pd.Period, params: Params) -> pd.DataFrame:
    return pd.concat([
        dwellings_received(tables["dwellings"], month, params),
        subsidised_dwellings_allocated(tables["tenancies"], month, params),
        permanent_subsidy(tables["dwellings"], month, params),
    ], ignore_index=True)
