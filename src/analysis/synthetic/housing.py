"""Dwellings received for boligsocial anvisning (`boliger`) and the allocations
and tenancies that follow (`anvisninger`).

Tenancies of shelter users come from their careers (move-in within 0–180 days
of the last discharge, mostly within 90); other households are housed at a
steady rate. Rents follow area and year; the February 2023 memo's figures are
then met exactly by choosing which dwellings of 2022 and January 2023 lie in
the 4.500–5.000 kr. band.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.params import Params
from analysis.synthetic import careers, pilot, policy, population
from analysis.synthetic.timeline import NA_DAY, Window, day, year_of

OTHER_PER_MONTH = 40.0  # households housed without a shelter history, scale 1
DECLINED_SHARE = 0.04  # dwellings first offered to someone who declined
UDSLUSNING_SHARE = 0.08  # shelter-pathway tenancies in an udslusningsbolig (outside the pilot)
SUBSIDY_PICK = 0.16  # chance a family tenancy from March 2023 gets the state subsidy (until the cap)
SUBSIDY_END = "2024-12-31"
PERMANENT_FROM, PERMANENT_SHARE, PERMANENT_REDUCTION = "2025-01-01", 0.03, 900.0
ASSOCIATIONS: tuple[str, ...] = ("KAB", "fsb", "AKB København", "3B", "SAB", "Lejerbo", "FA09", "DAB", "VIBO", "AAB", "Boligselskabet Sjælland")
DISTRICTS: tuple[str, ...] = ("Indre By", "Østerbro", "Nørrebro", "Vesterbro/Kongens Enghave", "Valby", "Vanløse",
                              "Brønshøj-Husum", "Bispebjerg", "Amager Øst", "Amager Vest")
ROOMS: dict[str, tuple[float, ...]] = {  # share of 1..4 rooms per dwelling type
    "familie": (0.25, 0.42, 0.23, 0.10), "ungdom": (0.85, 0.15, 0, 0), "aeldre": (0.5, 0.5, 0, 0),
    "skaev": (1, 0, 0, 0), "udslusning": (0.6, 0.4, 0, 0),
}
AREA_BY_ROOMS = ((28, 45), (45, 65), (62, 85), (80, 105))
RENT_PER_M2_2016 = 980.0  # kr per m² per year; rises 2.5 % a year
BAND = (4500.0, 5000.0)


def shelter_tenancies(rng: np.random.Generator, tenancies: pd.DataFrame, stays: pd.DataFrame) -> pd.DataFrame:
    """Allocations for the tenancies of shelter careers, with referral dates and the shelter referred from."""
    out = tenancies.copy()
    n = len(out)
    out["anvist"] = out.moved_in - rng.integers(3, 31, n)
    out["modtaget"] = out.anvist - rng.integers(1, 41, n)
    last = stays[stays["last"]].set_index(["person", "episode"]).herberg_id
    out["herberg_id"] = last.reindex(pd.MultiIndex.from_frame(out[["person", "episode"]])).to_numpy()
    out["referred"] = np.clip(out.anvist - rng.integers(14, 151, n), out.episode_start, out.anvist)
    out["pathway"] = "shelter"
    return out


def other_tenancies(rng: np.random.Generator, window: Window, scale: float, first_person: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households without a shelter history: their persons and tenancies."""
    lo = window.start - 90
    n = rng.poisson(OTHER_PER_MONTH * scale * (window.horizon - lo) / 30.44)
    modtaget = np.sort(rng.integers(lo, window.horizon + 1, n))
    anvist = modtaget + rng.integers(1, 41, n)
    moved_in = anvist + rng.integers(3, 31, n)
    method = np.where(rng.random(n) < 0.1, careers.METHODS.index("SEL85"), careers.METHODS.index("none"))
    duration, cat = careers.tenancy_duration(rng, method, np.full(n, 0.01))
    persons = population.other_tenants(rng, moved_in)
    referred = np.where(rng.random(n) < 0.7, anvist - rng.integers(14, 201, n), NA_DAY)
    ten = pd.DataFrame({
        "person": first_person + np.arange(n), "episode": -1, "episode_start": NA_DAY, "episode_end": NA_DAY,
        "moved_in": moved_in, "moved_out": moved_in + duration, "method": np.array(careers.METHODS, dtype=object)[method],
        "moveout_category": cat, "anvist": anvist, "modtaget": modtaget, "herberg_id": None, "referred": referred,
        "pathway": "other",
    })
    return persons, ten


def declined_offers(rng: np.random.Generator, allocations: pd.DataFrame, first_person: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earlier offers of some dwellings to households who declined (no move-in)."""
    pick = allocations[rng.random(len(allocations)) < DECLINED_SHARE]
    n = len(pick)
    out = pick[["dwelling", "modtaget"]].copy()
    out["anvist"] = pick.modtaget + (pick.anvist - pick.modtaget) // 2
    persons = population.other_tenants(rng, out.anvist.to_numpy())
    for col, value in (("person", first_person + np.arange(n)), ("moved_in", NA_DAY), ("moved_out", NA_DAY),
                       ("method", "none"), ("moveout_category", ""), ("pathway", "declined"), ("referred", NA_DAY),
                       ("episode", -1), ("episode_start", NA_DAY), ("episode_end", NA_DAY), ("herberg_id", None)):
        out[col] = value
    return persons, out


def dwelling_types(rng: np.random.Generator, alloc: pd.DataFrame, persons: pd.DataFrame, typ: np.ndarray) -> np.ndarray:
    """Dwelling type from the household: skæve boliger for chronic users, youth and elderly dwellings by age."""
    n = len(alloc)
    age = (alloc.moved_in.to_numpy() - persons.birth.to_numpy()[alloc.person.to_numpy()]) / 365.25
    shelter = alloc.pathway.to_numpy() == "shelter"
    u = rng.random(n)
    kind = np.full(n, "familie", dtype=object)
    kind[(age < 30) & (u < 0.4)] = "ungdom"
    kind[(age >= 65) & (u < 0.6)] = "aeldre"
    kind[shelter & (u > 1 - np.where(typ == 2, 0.15, 0.04))] = "skaev"
    kind[shelter & (kind == "familie") & (rng.random(n) < UDSLUSNING_SHARE)] = "udslusning"
    return kind


def subsidise(rng: np.random.Generator, alloc: pd.DataFrame, params: Params, scale: float, protected: np.ndarray) -> np.ndarray:
    """Subsidy scheme per allocation: state subsidy from 1 March 2023 towards the cap, municipal for
    udslusningsboliger from the pilot start, permanent for some new family dwellings from 2025."""
    n = len(alloc)
    scheme = np.full(n, "ingen", dtype=object)
    moved_in = alloc.moved_in.to_numpy()
    family = alloc.boligtype.to_numpy() == "familie"
    usable = day(str(params["state_subsidy.usable_from"]))
    cand = family & ~protected & (moved_in >= usable) & (moved_in <= day(SUBSIDY_END)) & (rng.random(n) < SUBSIDY_PICK)
    cap = int(round(float(params["targets.subsidised_dwellings"]) * scale))
    idx = np.flatnonzero(cand)
    scheme[idx[np.argsort(moved_in[idx], kind="stable")][:cap]] = "midlertidigt_statsligt"
    scheme[(alloc.boligtype.to_numpy() == "udslusning") & (alloc.referred.to_numpy() >= day(str(params["pilot.start_date"])))] = "midlertidigt_kommunalt"
    new_build = family & (scheme == "ingen") & (alloc.modtaget.to_numpy() >= day(PERMANENT_FROM)) & (rng.random(n) < PERMANENT_SHARE)
    scheme[new_build] = "permanent"
    return scheme


def rents(rng: np.random.Generator, dw: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rooms, area and rent (kr/month excl. utilities, whole kroner) of each dwelling."""
    n = len(dw)
    probs = np.array([ROOMS[k] for k in dw.boligtype])
    cum = np.cumsum(probs, axis=1)
    rooms = 1 + (rng.random((n, 1)) * cum[:, -1:] > cum).sum(axis=1)
    lo, hi = np.array(AREA_BY_ROOMS).T
    area = np.round(lo[rooms - 1] + rng.random(n) * (hi - lo)[rooms - 1], 1)
    years = year_of(dw.modtaget.to_numpy())
    rate = RENT_PER_M2_2016 * 1.025 ** (years - 2016) * rng.lognormal(0, 0.15, n)
    return rooms, area, np.round(area * rate / 12)


def _out_of_band(rng: np.random.Generator, n: int) -> np.ndarray:
    low = rng.random(n) < 0.35
    return np.where(low, rng.integers(3200, int(BAND[0]), n), rng.integers(int(BAND[1]) + 1, 7800, n)).astype(float)


def _in_band(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(int(BAND[0]), int(BAND[1]) + 1, n).astype(float)


def calibrate_band(rng: np.random.Generator, received: np.ndarray, rent: np.ndarray, lo: int, hi: int, target: int) -> None:
    """Make exactly ``target`` dwellings received in ``[lo, hi]`` lie in the band, moving as few rents as possible."""
    period = np.flatnonzero((received >= lo) & (received <= hi))
    inside = period[(rent[period] >= BAND[0]) & (rent[period] <= BAND[1])]
    outside = np.setdiff1d(period, inside)
    if len(inside) > target:
        move = rng.choice(inside, len(inside) - target, replace=False)
        rent[move] = _out_of_band(rng, len(move))
    elif len(inside) < target:
        move = rng.choice(outside, min(target - len(inside), len(outside)), replace=False)
        rent[move] = _in_band(rng, len(move))


def _protected_dwellings(received: np.ndarray) -> np.ndarray:
    """Dwellings the memo's band figures are computed from (2022 and January 2023): no injected problems here."""
    return (received >= day("2022-01-01")) & (received <= day("2023-01-31"))


def build(rng: np.random.Generator, window: Window, scale: float, params: Params, persons: pd.DataFrame,
          stays: pd.DataFrame, tenancies: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Persons (shelter users plus other households), allocations and dwellings."""
    shelter = shelter_tenancies(rng, tenancies, stays)
    other_p, other_t = other_tenancies(rng, window, scale, len(persons))
    persons = pd.concat([persons, other_p], ignore_index=True)
    alloc = pd.concat([shelter, other_t], ignore_index=True)
    alloc = alloc[(alloc.modtaget >= window.start) & (alloc.modtaget <= window.horizon)]
    alloc = alloc.sort_values(["modtaget", "person"], kind="stable").reset_index(drop=True)
    alloc["dwelling"] = np.arange(len(alloc))
    alloc["boligtype"] = dwelling_types(rng, alloc, persons, persons.typ.to_numpy()[alloc.person.to_numpy()])
    pilot.calibrate(rng, alloc, window, scale, params)

    received = alloc.modtaget.to_numpy()
    protected = _protected_dwellings(received)
    alloc["tilskudsordning"] = subsidise(rng, alloc, params, scale, protected)
    rooms, area, rent = rents(rng, alloc)
    scheme = alloc.tilskudsordning.to_numpy()
    state = scheme == "midlertidigt_statsligt"
    rent[state] = _in_band(rng, state.sum())
    permanent = scheme == "permanent"
    rent[permanent] = rng.integers(5500, 5901, permanent.sum())
    calibrate_band(rng, received, rent, day("2022-01-01"), day("2022-12-31"), int(round(115 * scale)))
    calibrate_band(rng, received, rent, day("2023-01-01"), day("2023-01-31"), int(round(4 * scale)))
    n = len(alloc)
    utilities = np.where(rng.random(n) < 0.05, np.nan, np.round(area * rng.uniform(7, 13, n)))
    dwellings = pd.DataFrame({
        "bolig_id": [f"B{i:06d}" for i in alloc.dwelling], "modtaget": received,
        "boligorganisation": rng.choice(ASSOCIATIONS, n), "bydel": rng.choice(DISTRICTS, n), "vaerelser": rooms,
        "areal_m2": area, "husleje": rent, "forbrug": utilities, "boligtype": alloc.boligtype.to_numpy(),
        "tilskudsordning": scheme,
    })
    years = year_of(np.maximum(alloc.moved_in.to_numpy(), alloc.anvist.to_numpy()))
    alloc["huslejetilskud"] = np.select(
        [state, scheme == "midlertidigt_kommunalt", permanent],
        [policy.monthly_state_subsidy(params, years), np.clip(rent - 3500, 500, 2500), PERMANENT_REDUCTION], 0.0)
    alloc["husleje"], alloc["forbrug"] = rent, utilities
    declined_p, declined = declined_offers(rng, alloc, len(persons))
    persons = pd.concat([persons, declined_p], ignore_index=True)
    declined["huslejetilskud"] = 0.0
    alloc = pd.concat([alloc, declined], ignore_index=True).sort_values(["dwelling", "anvist"], kind="stable")
    return persons, alloc.reset_index(drop=True), dwellings
