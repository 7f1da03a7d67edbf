"""Deterministic synthetic raw extracts (design decision 6; docs/synthetic-data.md).

``generate`` simulates people rather than rows: shelter careers sized by
Little's law to the §110 places, tenancies with support-dependent breakdowns,
referrals (with the udslusningsbolig pilot), support episodes and an income
panel; then injects documented data-quality problems and writes every extract
of the data contract. Same arguments, same bytes.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.params import load_params
from analysis.synthetic import cpr, housing, income, narrative, pilot, quality, referrals, shelters, stays, support, writer
from analysis.synthetic.labels import DISCHARGE_LABELS, MOVEOUT_LABELS
from analysis.synthetic.quality import STYLES
from analysis.synthetic.timeline import NA_DAY, Window, day

__all__ = ["generate"]

HOUSING_EXIT: dict[str, str] = {"udslusning": "udslusningsbolig", "skaev": "skaev_bolig"}


def _housing_exits(stays_all: pd.DataFrame, alloc: pd.DataFrame) -> None:
    """Turn the placeholder exit 'bolig' into the housing category the tenancy's dwelling type implies."""
    kind = alloc[alloc.pathway == "shelter"].set_index(["person", "episode"]).boligtype
    housed = stays_all.category.to_numpy() == "bolig"
    keys = pd.MultiIndex.from_frame(stays_all.loc[housed, ["person", "episode"]])
    dwelling = kind.reindex(keys).to_numpy()
    stays_all.loc[housed, "category"] = [HOUSING_EXIT.get(k, "egen_bolig") for k in dwelling]


def _cut(days: pd.Series, horizon: int) -> np.ndarray:
    """An end date after the horizon has not happened yet."""
    d = days.to_numpy().copy()
    d[d > horizon] = NA_DAY
    return d


def generate(out_dir: Path, seed: int = 2023, scale: float = 1.0, start: str = "2016-01", end: str = "2026-10",
             extract_date: str = "2026-11-05") -> dict[str, int]:
    """Write a full set of raw extracts into ``out_dir``; return the number of rows per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = load_params()
    window = Window.from_args(start, end, extract_date)
    rng = np.random.Generator(np.random.PCG64(seed))

    capacity = shelters.capacity_110(window, scale)
    persons, stays_all, tenancies = stays.populate(rng, window, capacity)
    persons, alloc, dwellings = housing.build(rng, window, scale, params, persons, stays_all, tenancies)
    _housing_exits(stays_all, alloc)
    refs = referrals.build(rng, alloc, stays_all, window, params)
    sup = support.build(rng, alloc, window)
    panel = income.build(rng, alloc, sup, persons, window, params)
    persons["cpr"] = cpr.make_cprs(rng, persons.birth.to_numpy(), persons.male.to_numpy())
    pilot_start = day(str(params["pilot.start_date"]))
    protected_persons = np.union1d(
        pilot.pilot_persons(alloc, params),
        refs.person[(refs.ordning == "udslusningsbolig") & (refs.indstillet >= pilot_start)].to_numpy())

    files = {
        "herberger": _herberger(rng, window, scale),
        "ophold": _ophold(rng, stays_all, persons, window, capacity.ids),
        "anvisninger": _anvisninger(rng, alloc, persons, window, protected_persons),
        "indstillinger": _indstillinger(rng, refs, persons),
        "bostoette": _bostoette(rng, sup, persons),
        "forsoergelse": _forsoergelse(rng, panel, persons),
    }
    summary: dict[str, int] = {}
    for name, frame in files.items():
        writer.write_csv(out_dir / f"{name}.csv", frame, STYLES[name])
        summary[name] = len(frame)
    writer.write_xlsx(out_dir / "boliger.xlsx", dwellings, ("modtaget",), "boliger")
    summary["boliger"] = len(dwellings)

    status_dir = out_dir / "status"
    for stale in status_dir.glob("*.yml") if status_dir.exists() else []:
        stale.unlink()
    months = narrative.months(start, end)
    for month in months:
        writer.write_yaml(status_dir / f"{month}.yml", narrative.status(month))
    summary["status"] = len(months)
    writer.write_yaml(out_dir / "udtraek.yml", {"udtraeksdato": date.fromisoformat(extract_date), "syntetisk": True})
    return summary


def _cprs(persons: pd.DataFrame, person: pd.Series, dash: bool) -> np.ndarray:
    values = persons.cpr.to_numpy()[person.to_numpy()]
    return cpr.with_dash(values) if dash else values


def _herberger(rng: np.random.Generator, window: Window, scale: float) -> pd.DataFrame:
    style = STYLES["herberger"]
    reg = shelters.register(window, scale)
    reg["gyldig_fra"] = writer.dates(rng, reg.gyldig_fra.to_numpy(), style)
    reg["gyldig_til"] = writer.dates(rng, reg.gyldig_til.to_numpy(), style)
    reg["konverterbare_pladser"] = reg.konverterbare_pladser.map(lambda v: "" if pd.isna(v) else str(int(v)))
    return reg


def _ophold(rng: np.random.Generator, stays_all: pd.DataFrame, persons: pd.DataFrame, window: Window,
            shelter_ids: tuple[str, ...]) -> pd.DataFrame:
    style = STYLES["ophold"]
    s = stays.to_extract(stays_all, window)
    s = quality.overlapping_stays(rng, s, shelter_ids)
    s = quality.impossible_stays(rng, s, window.extract)
    s = s.sort_values(["admitted", "person", "herberg_id"], kind="stable").reset_index(drop=True)
    cprs = quality.malform_cprs(rng, _cprs(persons, s.person, style.cpr_dash), np.ones(len(s), dtype=bool))
    out = pd.DataFrame({
        "ophold_id": [f"O{i:07d}" for i in range(1, len(s) + 1)], "cpr": cprs, "herberg_id": s.herberg_id.to_numpy(),
        "indskrevet": writer.dates(rng, s.admitted.to_numpy(), style), "udskrevet": writer.dates(rng, s.discharged.to_numpy(), style),
        "udskrivningsgrund": quality.labels(rng, s.category.to_numpy(), DISCHARGE_LABELS),
        "handlekommune": persons.kommune.to_numpy()[s.person.to_numpy()],
    })
    return quality.duplicate_rows(rng, out, np.zeros(len(out), dtype=bool))


def _anvisninger(rng: np.random.Generator, alloc: pd.DataFrame, persons: pd.DataFrame, window: Window,
                 protected_persons: np.ndarray) -> pd.DataFrame:
    style = STYLES["anvisninger"]
    a = alloc[alloc.anvist <= window.horizon].sort_values(["anvist", "dwelling"], kind="stable").reset_index(drop=True)
    protected = np.isin(a.person.to_numpy(), protected_persons)
    moved_out = _cut(a.moved_out, window.horizon)
    category = np.where(moved_out == NA_DAY, "", a.moveout_category.to_numpy())
    out = pd.DataFrame({
        "anvisning_id": [f"A{i:06d}" for i in range(1, len(a) + 1)], "bolig_id": [f"B{i:06d}" for i in a.dwelling],
        "cpr": quality.malform_cprs(rng, _cprs(persons, a.person, style.cpr_dash), ~protected),
        "anvist": writer.dates(rng, a.anvist.to_numpy(), style),
        "indflyttet": writer.dates(rng, _cut(a.moved_in, window.horizon), style),
        "fraflyttet": writer.dates(rng, moved_out, style),
        "fraflytningsgrund": quality.labels(rng, category, MOVEOUT_LABELS),
        "huslejetilskud": writer.money(rng, a.huslejetilskud.to_numpy(), style),
    })
    return quality.duplicate_rows(rng, out, protected)


def _indstillinger(rng: np.random.Generator, refs: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    style = STYLES["indstillinger"]
    return pd.DataFrame({
        "indstilling_id": refs.indstilling_id.to_numpy(), "cpr": _cprs(persons, refs.person, style.cpr_dash),
        "indstillet": writer.dates(rng, refs.indstillet.to_numpy(), style), "ordning": refs.ordning.to_numpy(),
        "herberg_id": refs.herberg_id.fillna("").to_numpy(),
    })


def _bostoette(rng: np.random.Generator, sup: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    style = STYLES["bostoette"]
    out = pd.DataFrame({
        "forloeb_id": sup.forloeb_id.to_numpy(),
        "cpr": quality.malform_cprs(rng, _cprs(persons, sup.person, style.cpr_dash), np.ones(len(sup), dtype=bool)),
        "metode": sup.metode.to_numpy(), "leverandoer": sup.leverandoer.to_numpy(),
        "start": writer.dates(rng, sup.start.to_numpy(), style), "slut": writer.dates(rng, sup.slut.to_numpy(), style),
        "slutgrund": sup.slutgrund.to_numpy(),
    })
    out[quality.EXTRA_COLUMN[1]] = quality.remarks(rng, len(out))
    return quality.duplicate_rows(rng, out, np.zeros(len(out), dtype=bool))


def _forsoergelse(rng: np.random.Generator, panel: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    style = STYLES["forsoergelse"]
    out = pd.DataFrame({
        "cpr": quality.malform_cprs(rng, _cprs(persons, panel.person, style.cpr_dash), np.ones(len(panel), dtype=bool)),
        "maaned": panel.maaned.to_numpy(), "ydelse": panel.ydelse.to_numpy(),
        "nettoindkomst": writer.money(rng, panel.nettoindkomst.to_numpy(), style),
        "boligstoette": writer.money(rng, panel.boligstoette.to_numpy(), style),
        "restance": writer.money(rng, panel.restance.to_numpy(), style),
    })
    return quality.duplicate_rows(rng, out, np.zeros(len(out), dtype=bool))
