"""The synthetic-data generator: determinism, calibration to the Feb 2023 memo, plausibility, injected problems.

Raw files are parsed here with plain pandas following data-contract §1 (not with
the ingest package), so the generator is checked against the contract itself.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.synthetic import generate, narrative, quality
from analysis.synthetic.labels import MOVEOUT_LABELS, TYPOS

CSV_EXTRACTS = ("herberger", "ophold", "anvisninger", "indstillinger", "bostoette", "forsoergelse")
CPR_RE = re.compile(r"^\d{6}-?\d{4}$")
EXTRACT_DATE = pd.Timestamp("2026-11-05")


def read_csv(path: Path) -> pd.DataFrame:
    """A raw CSV as text cells: UTF-8 (BOM or not) or Windows-1252, `;`-separated."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    from io import StringIO
    return pd.read_csv(StringIO(text), sep=";", dtype=str, keep_default_na=False)


def dates(col: pd.Series) -> pd.Series:
    """DD-MM-YYYY or ISO, mixed within a column; empty → NaT."""
    iso = pd.to_datetime(col, format="%Y-%m-%d", errors="coerce")
    return iso.fillna(pd.to_datetime(col, format="%d-%m-%Y", errors="coerce"))


def money(col: pd.Series) -> pd.Series:
    return pd.to_numeric(col.str.replace(".", "", regex=False).str.replace(",", ".", regex=False), errors="coerce")


def clean_cpr(frame: pd.DataFrame) -> pd.DataFrame:
    """Contract cleaning that matters for the targets: malformed CPR quarantined, duplicates collapsed."""
    ok = frame[frame.cpr.str.match(CPR_RE)].drop_duplicates()
    return ok.assign(cpr=ok.cpr.str.replace("-", "", regex=False))


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scale-1 data set shared by the calibration tests."""
    out = tmp_path_factory.mktemp("synthetic_full")
    generate(out)
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synthetic_small")
    return out, generate(out, scale=0.1, start="2021-01")


def test_same_seed_same_bytes(small: tuple[Path, dict], tmp_path: Path) -> None:
    first, summary = small
    again = generate(tmp_path, scale=0.1, start="2021-01")
    assert again == summary
    names = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for name in names:
        assert (first / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_other_seed_other_data(small: tuple[Path, dict], tmp_path: Path) -> None:
    first, _ = small
    generate(tmp_path, seed=7, scale=0.1, start="2021-01")
    assert (first / "ophold.csv").read_bytes() != (tmp_path / "ophold.csv").read_bytes()


def test_every_extract_written_with_contract_columns(small: tuple[Path, dict]) -> None:
    out, summary = small
    columns = {
        "herberger": ["herberg_id", "navn", "ejerform", "paragraf", "maalgruppe", "pladser", "gyldig_fra", "gyldig_til", "konverterbare_pladser"],
        "ophold": ["ophold_id", "cpr", "herberg_id", "indskrevet", "udskrevet", "udskrivningsgrund", "handlekommune"],
        "anvisninger": ["anvisning_id", "bolig_id", "cpr", "anvist", "indflyttet", "fraflyttet", "fraflytningsgrund", "huslejetilskud"],
        "indstillinger": ["indstilling_id", "cpr", "indstillet", "ordning", "herberg_id"],
        "bostoette": ["forloeb_id", "cpr", "metode", "leverandoer", "start", "slut", "slutgrund", "bemaerkning"],
        "forsoergelse": ["cpr", "maaned", "ydelse", "nettoindkomst", "boligstoette", "restance"],
    }
    for name, cols in columns.items():
        assert list(read_csv(out / f"{name}.csv").columns) == cols, name
        assert summary[name] > 0
    boliger = pd.read_excel(out / "boliger.xlsx")
    assert list(boliger.columns) == ["bolig_id", "modtaget", "boligorganisation", "bydel", "vaerelser", "areal_m2", "husleje",
                                     "forbrug", "boligtype", "tilskudsordning"]
    assert not (out / "boliger.csv").exists()
    assert (out / "udtraek.yml").read_text(encoding="utf-8") == "udtraeksdato: 2026-11-05\nsyntetisk: true\n"


def test_dwellings_in_band_match_the_memo(full: Path) -> None:
    b = pd.read_excel(full / "boliger.xlsx")
    received = pd.to_datetime(b.modtaget)
    band = b.husleje.between(4500, 5000)
    assert (band & (received.dt.year == 2022)).sum() == 115
    assert (band & (received.dt.to_period("M") == pd.Period("2023-01", "M"))).sum() == 4


def _pilot(full: Path, period_end: str) -> tuple[int, int]:
    refs = clean_cpr(read_csv(full / "indstillinger.csv"))
    refs["indstillet"] = dates(refs.indstillet)
    end = pd.Timestamp(period_end)
    pilot = refs[(refs.ordning == "udslusningsbolig") & (refs.indstillet >= pd.Timestamp("2022-09-01")) & (refs.indstillet <= end)]
    first = pilot.groupby("cpr").indstillet.min()
    alloc = clean_cpr(read_csv(full / "anvisninger.csv"))
    alloc["indflyttet"] = dates(alloc.indflyttet)
    moved = alloc.merge(first.rename("ref").reset_index(), on="cpr")
    moved = moved[(moved.indflyttet >= moved.ref) & (moved.indflyttet <= end)]
    return len(first), moved.cpr.nunique()


def test_pilot_matches_the_memo(full: Path) -> None:
    assert _pilot(full, "2023-02-28") == (29, 14)
    referred_spring, _ = _pilot(full, "2023-05-31")
    assert referred_spring == 50
    refs = read_csv(full / "indstillinger.csv")
    when = dates(refs.indstillet)
    udsl = refs.ordning == "udslusningsbolig"
    assert (udsl & (when < pd.Timestamp("2022-09-01"))).any(), "the scheme predates the pilot"
    assert (udsl & (when > pd.Timestamp("2023-06-30"))).any(), "and continues after it"


def _places_110(full: Path, lo: pd.Timestamp, hi: pd.Timestamp) -> float:
    h = read_csv(full / "herberger.csv")
    h = h[h.paragraf == "110"]
    start = dates(h.gyldig_fra).clip(lower=lo)
    stop = dates(h.gyldig_til).fillna(hi).clip(upper=hi)
    days = ((stop - start).dt.days + 1).clip(lower=0)
    return float((days * h.pladser.astype(int)).sum())


def test_littles_law_occupancy_near_95_percent(full: Path) -> None:
    s = read_csv(full / "ophold.csv")
    s["a"], s["d"] = dates(s.indskrevet), dates(s.udskrevet)
    s = s[(s.d.isna() | (s.d >= s.a)) & (s.a <= EXTRACT_DATE) & s.herberg_id.ne(quality.UNKNOWN_HERBERG_ID)].drop_duplicates()
    lo, hi = pd.Timestamp("2017-01-01"), pd.Timestamp("2025-12-31")
    end = pd.concat([s.d, s.a + pd.Timedelta(days=1)], axis=1).max(axis=1).fillna(pd.Timestamp("2026-11-01"))
    nights = ((end.clip(upper=hi + pd.Timedelta(days=1)) - s.a.clip(lower=lo)).dt.days).clip(lower=0).sum()
    occupancy = nights / _places_110(full, lo, hi)
    assert 0.90 <= occupancy <= 1.00, occupancy
    one_night = ((end - s.a).dt.days <= 1).mean()
    assert 0.30 <= one_night <= 0.42, one_night


def test_subsidised_dwellings_start_march_2023_below_cap(full: Path) -> None:
    b = pd.read_excel(full / "boliger.xlsx")
    a = clean_cpr(read_csv(full / "anvisninger.csv"))
    a["indflyttet"], a["tilskud"] = dates(a.indflyttet), money(a.huslejetilskud)
    m = a.merge(b, on="bolig_id")
    state = m[m.tilskudsordning == "midlertidigt_statsligt"]
    assert 0 < state.indflyttet.notna().sum() <= 350
    assert state.indflyttet.min() >= pd.Timestamp("2023-03-01")
    subsidised = m[(m.tilskudsordning != "ingen") & m.indflyttet.notna()]
    assert (subsidised.tilskud > 0).all() and (m[m.tilskudsordning == "ingen"].tilskud == 0).all()


def test_no_real_looking_cpr(small: tuple[Path, dict]) -> None:
    out, _ = small
    for name in ("ophold", "anvisninger", "indstillinger", "bostoette", "forsoergelse"):
        cprs = read_csv(out / f"{name}.csv").cpr
        ok = cprs[cprs.str.match(CPR_RE)].str.replace("-", "", regex=False)
        assert (ok.str[:2].astype(int).between(61, 91)).all(), name
        assert (ok.str[2:4].astype(int).between(1, 12)).all(), name
        assert len(ok) < len(cprs) or name in ("indstillinger",), f"{name}: no malformed CPR injected"


def test_men_are_about_77_percent_of_shelter_users(full: Path) -> None:
    cprs = clean_cpr(read_csv(full / "ophold.csv")).cpr.drop_duplicates()
    assert 0.72 <= (cprs.str[-1].astype(int) % 2 == 1).mean() <= 0.82


def test_injected_problems_present(full: Path) -> None:
    ophold_bytes = (full / "ophold.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        ophold_bytes.decode("utf-8")
    assert (full / "herberger.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert not (full / "indstillinger.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    s = read_csv(full / "ophold.csv")
    assert s.indskrevet.str.match(r"^\d{4}-\d{2}-\d{2}$").any() and s.indskrevet.str.match(r"^\d{2}-\d{2}-\d{4}$").any()
    lines = ophold_bytes.split(b"\r\n")
    assert len(lines) > len(set(lines)), "exact duplicate rows"
    a, d = dates(s.indskrevet), dates(s.udskrevet)
    assert (d < a).any(), "discharge before admission"
    assert (a > EXTRACT_DATE).any(), "dates after the extract date"
    assert (s.herberg_id == quality.UNKNOWN_HERBERG_ID).any()
    assert (~s.cpr.str.match(CPR_RE)).any()
    t = s.assign(a=a, d=d.fillna(EXTRACT_DATE)).drop_duplicates().sort_values(["cpr", "a"])
    same = t.cpr.eq(t.cpr.shift())
    assert (same & (t.a < t.d.shift())).any(), "overlapping stays of one person"
    reasons = s.udskrivningsgrund
    assert (reasons == "").any() and reasons.str.contains("  ").any() and reasons.str.endswith(".").any()
    assert (reasons.str.isupper() & reasons.str.len().gt(3)).any()
    assert reasons.isin(set(TYPOS.values())).any()

    tilskud = read_csv(full / "anvisninger.csv").huslejetilskud
    assert tilskud.str.match(r"^\d{1,3}(\.\d{3})+,\d{2}$").any() and tilskud.str.match(r"^\d{4,},\d{2}$").any()
    assert "bemaerkning" in read_csv(full / "bostoette.csv").columns


def _category(labels: pd.Series, table: dict[str, tuple[str, ...]]) -> pd.Series:
    """Undo the documented label noise and map to the §3 category."""
    lookup = {label.lower(): cat for cat, options in table.items() for label in options}
    lookup.update({typo.lower(): lookup[base.lower()] for base, typo in TYPOS.items() if base.lower() in lookup})
    return labels.str.lower().str.replace(r"\s+", " ", regex=True).str.strip().str.rstrip(".").map(lookup)


def _km(duration: pd.Series, event: pd.Series, days: float = 365.25) -> float:
    survival = 1.0
    for t in np.unique(duration[event & (duration <= days)]):
        survival *= 1 - ((duration == t) & event).sum() / (duration >= t).sum()
    return survival


def test_retention_depends_on_support_method(full: Path) -> None:
    """12-month Kaplan–Meier retention of tenancies housed from a shelter (data-contract §4) by support method."""
    stays = clean_cpr(read_csv(full / "ophold.csv"))
    stays["d"] = dates(stays.udskrevet)
    a = clean_cpr(read_csv(full / "anvisninger.csv"))
    a["in"], a["out"] = dates(a.indflyttet), dates(a.fraflyttet)
    a = a[a["in"].notna()]
    near = a.merge(stays[["cpr", "d"]].dropna(), on="cpr")
    near = near[(near.d <= near["in"]) & (near["in"] - near.d <= pd.Timedelta(days=90))]
    housed = a[a.anvisning_id.isin(near.anvisning_id)].copy()
    sup = clean_cpr(read_csv(full / "bostoette.csv"))
    sup["start"], sup["slut"] = dates(sup.start), dates(sup.slut)
    m = housed.merge(sup, on="cpr")
    open_at = (m.start <= m["in"]) & (m.slut.isna() | (m.slut >= m["in"]))
    soon = (m.start > m["in"]) & (m.start <= m["in"] + pd.Timedelta(days=30))
    method = m[open_at | soon].drop_duplicates("anvisning_id").set_index("anvisning_id").metode
    housed["method"] = housed.anvisning_id.map(method).fillna("none")
    housed["T"] = (housed.out.fillna(pd.Timestamp("2026-10-31")) - housed["in"]).dt.days
    housed["E"] = housed.out.notna() & ~_category(housed.fraflytningsgrund, MOVEOUT_LABELS).isin(["doed", "anden_bolig"])
    targets = {"CTI": 0.88, "ICM": 0.76, "ACT": 0.90, "SEL85": 0.80, "none": 0.70}
    for name, group in housed.groupby("method"):
        assert abs(_km(group["T"], group["E"]) - targets[name]) < 0.06, name


def test_income_panel_size_and_key(full: Path) -> None:
    f = read_csv(full / "forsoergelse.csv")
    assert len(f) <= 320_000
    assert f.ydelse.isin(["kontanthjaelp", "uddannelseshjaelp", "foertidspension", "folkepension", "sygedagpenge",
                          "ressourceforloeb", "loen", "su", "ingen"]).all()
    assert (money(f.restance) == 0).mean() > 0.9


def test_status_narratives(small: tuple[Path, dict]) -> None:
    out, _ = small
    memo = yaml.safe_load((out / "status" / "2023-02.yml").read_text(encoding="utf-8"))
    assert [s["nr"] for s in memo["spor"]] == list(range(1, 8))
    text = " ".join(s["status"] for s in memo["spor"])
    for placeholder in ("{dwellings_received.rent_4500_5000@M-1}", "{dwellings_received.rent_4500_5000@Y-1}",
                        "{periode@M-1}", "{pilot_referred}", "{pilot_moved_in}"):
        assert placeholder in text
    assert "350" in text and "15.000 kr." in text and "Ŷ" not in text and "ŵ" not in text
    for month in narrative.SKIPPED_MONTHS:
        assert not (out / "status" / f"{month}.yml").exists()
    assert (out / "status" / "2026-10.yml").exists()
