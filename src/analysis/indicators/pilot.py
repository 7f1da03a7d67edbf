"""Spor 5: the udslusningsbolig pilot with temporary municipal rent subsidy (data contract §2).

A person counts once, from their earliest pilot referral, and has moved in when
a tenancy of theirs starts on or after that referral and by the end of the
period; both series are cumulative so the chart can be read against the 50 places.
"""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from analysis.indicators.common import cumulative, history
from analysis.params import Params

PILOT_SCHEME = "udslusningsbolig"


def pilot_persons(referrals: pd.DataFrame, tenancies: pd.DataFrame, params: Params) -> pd.DataFrame:
    """One row per pilot person: first pilot referral and first move-in on or after it (NaT if none yet)."""
    start = pd.Timestamp(str(params["pilot.start_date"]))
    pilot = referrals[(referrals["scheme"] == PILOT_SCHEME) & (referrals["referred"] >= start)]
    first = pilot.groupby("person_id")["referred"].min().rename("referred").reset_index()
    moves = first.merge(tenancies[["person_id", "moved_in"]].dropna(), on="person_id", how="left")
    moves = moves[moves["moved_in"] >= moves["referred"]]
    return first.set_index("person_id").join(moves.groupby("person_id")["moved_in"].min()).reset_index()


def build(tables: Mapping[str, pd.DataFrame], month: pd.Period, params: Params) -> pd.DataFrame:
    persons = pilot_persons(tables["referrals"], tables["tenancies"], params)
    months = history(month, params)
    return pd.concat([
        cumulative("pilot_referred", persons["referred"], months),
        cumulative("pilot_moved_in", persons["moved_in"], months),
    ], ignore_index=True)
