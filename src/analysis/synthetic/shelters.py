"""The shelter and housing-service register (`herberger`).

Copenhagen-like: about 478 §110 places (kk.dk, around 2017). Sizes known from
public sources: Herbergscentret ~64, Sporsløjfen 24 (youth), Gl. Køge Landevej
110 + 38 temporary places. Bocentret, Frederikssundsvej, KFUM and Mændenes Hjem
sizes are *unverified* choices; Herberget Amagerbrogade and the §107/§108 units
are fictitious. After 2024 Herbergscentret and Frederikssundsvej convert §110
places to §107 (the screening of the Feb 2023 memo).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.synthetic.timeline import NA_DAY, Window, day

COLUMNS = ("herberg_id", "navn", "ejerform", "paragraf", "maalgruppe", "pladser", "gyldig_fra", "gyldig_til", "konverterbare_pladser")


@dataclass(frozen=True)
class Places:
    """One register row: places of one shelter under one section for a period (``until`` = None: still valid)."""

    herberg_id: str
    navn: str
    ejerform: str
    paragraf: str
    maalgruppe: str
    pladser: int
    since: str
    until: str | None = None
    convertible: int | None = None


REGISTER: tuple[Places, ...] = (
    Places("H01", "Herbergscentret", "kommunal", "110", "voksne", 64, "2016-01-01", "2024-12-31", 20),
    Places("H01", "Herbergscentret", "kommunal", "110", "voksne", 44, "2025-01-01", None, 0),
    Places("H01", "Herbergscentret", "kommunal", "107", "voksne", 20, "2025-01-01"),
    Places("H02", "Bocentret", "kommunal", "110", "voksne", 62, "2016-01-01", None, 16),
    Places("H03", "Frederikssundsvej", "kommunal", "110", "voksne", 70, "2016-01-01", "2018-12-31", 24),
    Places("H03", "Frederikssundsvej", "kommunal", "110", "voksne", 74, "2019-01-01", "2025-05-31", 24),
    Places("H03", "Frederikssundsvej", "kommunal", "110", "voksne", 50, "2025-06-01", None, 0),
    Places("H03", "Frederikssundsvej", "kommunal", "107", "voksne", 24, "2025-06-01"),
    Places("H04", "Sporsløjfen", "selvejende", "110", "unge", 24, "2016-01-01"),
    Places("H05", "Gl. Køge Landevej", "selvejende", "110", "voksne", 110, "2016-01-01", "2020-10-31", 30),
    Places("H05", "Gl. Køge Landevej", "selvejende", "110", "voksne", 148, "2020-11-01", "2023-12-31", 30),
    Places("H05", "Gl. Køge Landevej", "selvejende", "110", "voksne", 110, "2024-01-01", None, 30),
    Places("H06", "KFUM Herberg Artillerivej", "selvejende", "110", "voksne", 52, "2016-01-01"),
    Places("H07", "Mændenes Hjem", "selvejende", "110", "voksne", 56, "2016-01-01"),
    Places("H08", "Herberget Amagerbrogade", "privat", "110", "kvinder", 36, "2016-01-01"),
    Places("H09", "Botilbud Tagensvej", "kommunal", "107", "voksne", 40, "2016-01-01", "2021-12-31"),
    Places("H09", "Botilbud Tagensvej", "kommunal", "107", "voksne", 48, "2022-01-01"),
    Places("H10", "Botilbud Valby", "selvejende", "108", "voksne", 30, "2016-01-01"),
    Places("H11", "Bofællesskabet Sundholm", "privat", "108", "voksne", 18, "2016-01-01"),
)


def _scaled(n: int | None, scale: float) -> int | None:
    return None if n is None else max(int(round(n * scale)), 1 if n > 0 else 0)


def register(window: Window, scale: float) -> pd.DataFrame:
    """The register rows that overlap the extract's window, places scaled."""
    rows = []
    for p in REGISTER:
        since, until = day(p.since), (day(p.until) if p.until else NA_DAY)
        if since > window.horizon or (until != NA_DAY and until < window.start):
            continue
        rows.append((p.herberg_id, p.navn, p.ejerform, p.paragraf, p.maalgruppe, _scaled(p.pladser, scale),
                     since, until, _scaled(p.convertible, scale) if p.convertible is not None else None))
    return pd.DataFrame(rows, columns=list(COLUMNS))


@dataclass(frozen=True)
class Capacity:
    """§110 places per shelter and day, from ``first_day`` on (rows: ``ids``)."""

    ids: tuple[str, ...]
    target: tuple[str, ...]
    first_day: int
    places: np.ndarray  # shape (shelters, days)

    def on(self, days: np.ndarray) -> np.ndarray:
        """Places per shelter on each given day: shape (len(days), shelters)."""
        idx = np.clip(days - self.first_day, 0, self.places.shape[1] - 1)
        return self.places[:, idx].T

    def total(self) -> np.ndarray:
        return self.places.sum(axis=0)


def capacity_110(window: Window, scale: float) -> Capacity:
    """Daily §110 places from the burn-in to the horizon; before a shelter's first row its first size applies."""
    rows = [p for p in REGISTER if p.paragraf == "110"]
    ids = tuple(dict.fromkeys(p.herberg_id for p in rows))
    n_days = window.horizon - window.burn_in + 1
    places = np.zeros((len(ids), n_days), dtype=np.int64)
    for i, hid in enumerate(ids):
        own = sorted((p for p in rows if p.herberg_id == hid), key=lambda p: p.since)
        places[i, :] = _scaled(own[0].pladser, scale)
        for p in own:
            lo = max(day(p.since) - window.burn_in, 0)
            hi = n_days if p.until is None else min(day(p.until) - window.burn_in + 1, n_days)
            if hi > lo:
                places[i, lo:hi] = _scaled(p.pladser, scale)
    target = tuple(next(p.maalgruppe for p in rows if p.herberg_id == hid) for hid in ids)
    return Capacity(ids, target, window.burn_in, places)
