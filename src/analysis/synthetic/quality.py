"""The data-quality problems real extracts have, injected at documented rates.

Every rate here is listed in docs/synthetic-data.md. Problems are kept modest
(about 0.1–1 % of rows) and never touch protected rows: the dwellings and pilot
referrals/allocations the February 2023 memo's figures are computed from. Each
problem occurs at least once, so small runs exercise every cleaning rule.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.synthetic.labels import TYPOS
from analysis.synthetic.timeline import NA_DAY

LABEL_NOISE: dict[str, float] = {"case": 0.05, "double_space": 0.02, "trailing_dot": 0.03, "typo": 0.10}
ROW_RATES: dict[str, float] = {
    "malformed_cpr": 0.001,
    "duplicate_rows": 0.003,
    "overlapping_stays": 0.003,
    "discharge_before_admission": 0.001,
    "dates_after_extract": 0.0005,
    "unknown_herberg_id": 0.0005,
}
UNKNOWN_HERBERG_ID = "H99"
EXTRA_COLUMN = ("bostoette", "bemaerkning")


@dataclass(frozen=True)
class FileStyle:
    """How one extract is written: encoding, main date form and the share written the other way,
    share of money cells with thousands dots, CPR form."""

    encoding: str  # "cp1252", "utf-8-sig" (with BOM), "utf-8", or "xlsx"
    dates: str  # "dmy" (DD-MM-YYYY) or "iso"
    other_dates: float
    thousands: float
    cpr_dash: bool


STYLES: dict[str, FileStyle] = {
    "herberger": FileStyle("utf-8-sig", "dmy", 0.0, 0.0, False),
    "ophold": FileStyle("cp1252", "dmy", 0.02, 0.0, True),
    "boliger": FileStyle("xlsx", "iso", 0.0, 0.0, False),
    "anvisninger": FileStyle("utf-8-sig", "iso", 0.01, 0.30, False),
    "indstillinger": FileStyle("utf-8", "dmy", 0.0, 0.0, True),
    "bostoette": FileStyle("utf-8-sig", "iso", 0.0, 0.0, False),
    "forsoergelse": FileStyle("utf-8", "iso", 0.0, 0.50, False),
}


def _count(n_eligible: int, rate: float, n_rows: int) -> int:
    return min(n_eligible, max(1, int(round(rate * n_rows))))


def pick(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """Sorted row positions hit by a problem: ``rate`` of all rows, at least one, from the eligible ones."""
    idx = np.flatnonzero(eligible)
    return np.sort(rng.choice(idx, _count(len(idx), rate, len(eligible)), replace=False))


def labels(rng: np.random.Generator, categories: np.ndarray, table: dict[str, tuple[str, ...]]) -> np.ndarray:
    """Free text for each category: one of its base labels, then case, spacing, full-stop and spelling noise."""
    out = np.full(len(categories), "", dtype=object)
    for cat, options in table.items():
        hit = np.flatnonzero(categories == cat)
        out[hit] = np.asarray(options, dtype=object)[rng.integers(0, len(options), len(hit))]
    s = pd.Series(out, dtype=object)
    filled = (s != "").to_numpy()
    typo = filled & s.isin(list(TYPOS)).to_numpy() & (rng.random(len(s)) < LABEL_NOISE["typo"])
    s[typo] = s[typo].map(TYPOS)
    case = filled & (rng.random(len(s)) < LABEL_NOISE["case"])
    upper = rng.random(len(s)) < 0.5
    s[case & upper] = s[case & upper].str.upper()
    s[case & ~upper] = s[case & ~upper].str.lower()
    spaced = filled & s.str.contains(" ").to_numpy() & (rng.random(len(s)) < LABEL_NOISE["double_space"])
    s[spaced] = s[spaced].str.replace(" ", "  ", n=1, regex=False)
    dot = filled & (rng.random(len(s)) < LABEL_NOISE["trailing_dot"])
    s[dot] = s[dot] + "."
    return s.to_numpy(dtype=object)


def malform_cprs(rng: np.random.Generator, cprs: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """A few CPR cells typed wrong: a digit missing or extra, or a letter for a digit."""
    out = cprs.copy()
    for i, pos in enumerate(pick(rng, eligible, ROW_RATES["malformed_cpr"])):
        text = str(out[pos])
        kind = i % 3
        out[pos] = text[:-1] if kind == 0 else text + "0" if kind == 1 else text[:3] + "O" + text[4:]
    return out


def overlapping_stays(rng: np.random.Generator, stays: pd.DataFrame, shelter_ids: tuple[str, ...]) -> pd.DataFrame:
    """Extra stays that start during another stay of the same person, at another shelter."""
    nights = (stays.discharged - stays.admitted).to_numpy()
    rows = stays.iloc[pick(rng, (stays.discharged != NA_DAY).to_numpy() & (nights >= 3), ROW_RATES["overlapping_stays"])].copy()
    n = len(rows)
    rows["admitted"] = rows.admitted + 1 + (rng.random(n) * (rows.discharged - rows.admitted - 1)).astype(np.int64)
    rows["discharged"] = np.minimum(rows.admitted + rng.integers(1, 11, n), rows.discharged)
    others = [np.setdiff1d(shelter_ids, [h]) for h in rows.herberg_id]
    rows["herberg_id"] = [o[rng.integers(0, len(o))] for o in others]
    return pd.concat([stays, rows], ignore_index=True)


def impossible_stays(rng: np.random.Generator, stays: pd.DataFrame, extract: int) -> pd.DataFrame:
    """Rows that break the row rules: discharge before admission, dates after the extract date, unknown shelter."""
    out = stays.copy()
    closed = (out.discharged != NA_DAY).to_numpy()
    swap = pick(rng, closed, ROW_RATES["discharge_before_admission"])
    out.loc[swap, "discharged"] = out.admitted[swap] - rng.integers(1, 31, len(swap))
    late = pick(rng, ~np.isin(np.arange(len(out)), swap), ROW_RATES["dates_after_extract"])
    out.loc[late, "admitted"] = extract + rng.integers(1, 61, len(late))
    out.loc[late, "discharged"] = NA_DAY
    out.loc[late, "category"] = ""
    unknown = pick(rng, ~np.isin(np.arange(len(out)), np.r_[swap, late]), ROW_RATES["unknown_herberg_id"])
    out.loc[unknown, "herberg_id"] = UNKNOWN_HERBERG_ID
    return out


def duplicate_rows(rng: np.random.Generator, frame: pd.DataFrame, protected: np.ndarray) -> pd.DataFrame:
    """Exact copies of some rows, placed right after their originals (as exports with a join fan-out do)."""
    dup = pick(rng, ~protected, ROW_RATES["duplicate_rows"])
    order = np.sort(np.r_[np.arange(len(frame)), dup], kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def remarks(rng: np.random.Generator, n: int) -> np.ndarray:
    """The extra column one extract carries (an unrequested free-text field)."""
    notes = np.array(["", "Opfølgning aftalt", "Skift af kontaktperson", "Borger ønsker pause"], dtype=object)
    return notes[np.where(rng.random(n) < 0.9, 0, rng.integers(1, len(notes), n))]
