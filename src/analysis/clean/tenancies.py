"""Tenancies: allocations of the month's cut with their dwelling, pathway and support (architecture.md).

Everything is decided relative to the move-in date, with joins on person and
interval filters rather than loops; a tenancy not yet moved into is neither
housed from homelessness nor supported.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DWELLING_COLUMNS = ["dwelling_id", "rent", "utilities", "dwelling_type", "subsidy_scheme"]


def _moved_in(allocations: pd.DataFrame) -> pd.DataFrame:
    return allocations.loc[allocations["moved_in"].notna(), ["allocation_id", "person_id", "moved_in"]]


def from_shelter_stay(allocations: pd.DataFrame, stays: pd.DataFrame, days: int) -> pd.Series:
    """A stay admitted by move-in that ended at most ``days`` before it (or had not ended)."""
    m = _moved_in(allocations).merge(stays[["person_id", "admitted", "discharged"]], on="person_id")
    hit = (m["admitted"] <= m["moved_in"]) & (
        m["discharged"].isna() | (m["discharged"] >= m["moved_in"] - pd.Timedelta(days=days)))
    return allocations["allocation_id"].isin(m.loc[hit, "allocation_id"])


def from_shelter_referral(allocations: pd.DataFrame, referrals: pd.DataFrame) -> pd.Series:
    """A referral from a shelter (``shelter_id`` set) of the same person on or before move-in."""
    from_shelter = referrals.loc[referrals["shelter_id"].notna(), ["person_id", "referred"]]
    m = _moved_in(allocations).merge(from_shelter, on="person_id")
    return allocations["allocation_id"].isin(m.loc[m["referred"] <= m["moved_in"], "allocation_id"])


def support_method(allocations: pd.DataFrame, support: pd.DataFrame, window_days: int) -> pd.Series:
    """Method of the support open at move-in or starting within the window after it (earliest start); else none."""
    m = _moved_in(allocations).merge(support[["person_id", "method", "start", "end"]], on="person_id")
    open_at = (m["start"] <= m["moved_in"]) & (m["end"].isna() | (m["end"] >= m["moved_in"]))
    soon = (m["start"] > m["moved_in"]) & (m["start"] <= m["moved_in"] + pd.Timedelta(days=window_days))
    chosen = m[open_at | soon].sort_values(["allocation_id", "start"], kind="stable").drop_duplicates("allocation_id")
    method = allocations["allocation_id"].map(chosen.set_index("allocation_id")["method"])
    return method.fillna("none").astype(object)


def build_tenancies(
    allocations: pd.DataFrame, dwellings: pd.DataFrame, stays: pd.DataFrame, referrals: pd.DataFrame,
    support: pd.DataFrame, housed_days: int, support_window_days: int,
) -> pd.DataFrame:
    """One row per allocation of the cut tables."""
    t = allocations.drop(columns=["moveout_reason"]).merge(dwellings[DWELLING_COLUMNS], on="dwelling_id", how="left",
                                                           validate="many_to_one")
    referred = from_shelter_referral(t, referrals)
    t["housed_from_homelessness"] = (from_shelter_stay(t, stays, housed_days) | referred).to_numpy()
    t["pathway"] = np.where(referred, "shelter", "other").astype(object)
    t["support_method"] = support_method(t, support, support_window_days).to_numpy()
    return t
