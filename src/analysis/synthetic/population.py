"""People: who uses the shelters and who else is housed by the municipality.

Shelter users follow the Kuhn & Culhane typology as applied to Danish users
(Benjaminsen 2018): about 80 % transitional, 10 % episodic, 10 % chronic;
about 77 % men; ages with 27 % aged 18–29 and 9 % aged 60+ (domain-facts.md).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

TYPES: tuple[str, ...] = ("transitional", "episodic", "chronic")
TYPE_SHARES: tuple[float, ...] = (0.80, 0.10, 0.10)
MALE_SHARE_SHELTER = 0.77
MALE_SHARE_OTHER = 0.55
# Age bands (years, lower inclusive / upper exclusive) with their shares.
SHELTER_AGES: tuple[tuple[int, int, float], ...] = ((18, 30, 0.27), (30, 60, 0.64), (60, 80, 0.09))
OTHER_AGES: tuple[tuple[int, int, float], ...] = ((18, 30, 0.30), (30, 65, 0.55), (65, 90, 0.15))
OTHER_MUNICIPALITIES: tuple[str, ...] = ("147", "151", "153", "157", "159", "161", "163", "165", "167", "169", "173", "175", "183", "185", "187", "190")
HOME_SHARE = 0.90


def _ages(rng: np.random.Generator, n: int, bands: tuple[tuple[int, int, float], ...]) -> np.ndarray:
    """Age in days at the reference day, piecewise uniform over the bands."""
    band = rng.choice(len(bands), size=n, p=[b[2] for b in bands])
    lo = np.array([b[0] for b in bands])[band]
    hi = np.array([b[1] for b in bands])[band]
    return ((lo + rng.random(n) * (hi - lo)) * 365.25).astype(np.int64)


def shelter_users(rng: np.random.Generator, arrival: np.ndarray, typ: np.ndarray) -> pd.DataFrame:
    """Persons of the given user types (index into ``TYPES``) arriving in the shelter system on the given days."""
    n = len(arrival)
    kommune = np.where(rng.random(n) < HOME_SHARE, "101", rng.choice(OTHER_MUNICIPALITIES, size=n))
    return pd.DataFrame({
        "kind": "shelter",
        "typ": typ,
        "male": rng.random(n) < MALE_SHARE_SHELTER,
        "birth": arrival - _ages(rng, n, SHELTER_AGES),
        "arrival": arrival,
        "kommune": kommune,
    })


def other_tenants(rng: np.random.Generator, reference: np.ndarray) -> pd.DataFrame:
    """Persons housed through boligsocial anvisning without a shelter history."""
    n = len(reference)
    return pd.DataFrame({
        "kind": "other",
        "typ": -1,
        "male": rng.random(n) < MALE_SHARE_OTHER,
        "birth": reference - _ages(rng, n, OTHER_AGES),
        "arrival": reference,
        "kommune": "101",
    })
