"""Keyed pseudonyms for CPR numbers (design decision 5).

``person_id`` = HMAC-SHA256(key, normalised 10-digit CPR), first 16 hex
characters: stable across months for the same key, useless without it. Gender
and birth year are derived here, before the CPR is dropped. Nothing in this
module logs a CPR; error messages name rows and columns, never values.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.context import project_root
from analysis.ingest.errors import PseudonymKeyError
from analysis.ingest.reading import by_unique

ENV_KEY = "ANALYSIS_PSEUDONYM_KEY"
ENV_KEY_FILE = "ANALYSIS_PSEUDONYM_KEY_FILE"
# Public on purpose: it only ever pseudonymises the fictitious synthetic CPRs.
DEMO_KEY = b"analysis-synthetic-demo-key (not secret, synthetic data only)"
MALFORMED = "<malformed>"

_CPR = r"^(\d{2})(\d{2})(\d{2})-?(\d{4})$"
_CPR_IN_TEXT = r"(?<!\d)\d{6}-?\d{4}(?!\d)"
CPR_MASK = "<cpr>"


def is_synthetic(raw_dir: Path) -> bool:
    """True only when the delivery itself says so (``syntetisk: true`` in udtraek.yml)."""
    meta = raw_dir / "udtraek.yml"
    if not meta.is_file():
        return False
    return (yaml.safe_load(meta.read_text(encoding="utf-8")) or {}).get("syntetisk") is True


def load_key(raw_dir: Path, project: Path | None = None) -> tuple[bytes, str]:
    """The pseudonymisation key and where it came from (env, key file, or demo key for synthetic data)."""
    if os.environ.get(ENV_KEY):
        return os.environ[ENV_KEY].encode("utf-8"), f"environment variable {ENV_KEY}"
    if os.environ.get(ENV_KEY_FILE):
        path = Path(os.environ[ENV_KEY_FILE]).expanduser().resolve()
        root = (project or project_root()).resolve()
        if path.is_relative_to(root):
            raise PseudonymKeyError(f"{ENV_KEY_FILE} points inside the project folder ({root}); "
                                    "keep the key file outside the repository so it cannot be committed")
        if not path.is_file():
            raise PseudonymKeyError(f"{ENV_KEY_FILE}: key file {path} does not exist")
        key = path.read_bytes().strip()
        if not key:
            raise PseudonymKeyError(f"{ENV_KEY_FILE}: key file {path} is empty")
        return key, f"key file ({ENV_KEY_FILE})"
    if is_synthetic(raw_dir):
        return DEMO_KEY, "demo key (udtraek.yml: syntetisk: true)"
    raise PseudonymKeyError(
        f"no pseudonymisation key: set {ENV_KEY} or {ENV_KEY_FILE} (a file outside the project). "
        f"The built-in demo key is only used when {raw_dir / 'udtraek.yml'} says 'syntetisk: true'."
    )


def normalise_cpr(values: pd.Series) -> pd.Series:
    """10-digit CPR text, or NA where malformed (valid: month 01–12, day 01–31 or replacement day 61–91)."""
    def normalise(u: pd.Series) -> pd.Series:
        parts = u.astype(str).str.strip().str.extract(_CPR)
        day = pd.to_numeric(parts[0], errors="coerce")
        month = pd.to_numeric(parts[1], errors="coerce")
        valid = (day.between(1, 31) | day.between(61, 91)) & month.between(1, 12)
        return (parts[0] + parts[1] + parts[2] + parts[3]).where(valid)

    return by_unique(values, normalise)


def scrub_cpr(text: pd.Series) -> pd.Series:
    """Mask anything shaped like a CPR number inside free text (staff do type them into comments)."""
    return by_unique(text, lambda u: u.str.replace(_CPR_IN_TEXT, CPR_MASK, regex=True))


def _hmac16(key: bytes, cpr: str) -> str:
    return hmac.new(key, cpr.encode("ascii"), hashlib.sha256).hexdigest()[:16]


def person_ids(cpr10: pd.Series, key: bytes) -> pd.Series:
    """Pseudonym per normalised CPR (NA stays NA); each distinct CPR is hashed once."""
    codes, uniques = pd.factorize(cpr10)
    hashed = pd.Series([_hmac16(key, c) for c in uniques], dtype=object)
    out = hashed.reindex(codes).to_numpy()  # code -1 (no CPR) → NaN
    return pd.Series(out, index=cpr10.index, dtype=object)


def birth_year(cpr10: pd.Series) -> pd.Series:
    """Standard century rule on the 7th digit."""
    yy = pd.to_numeric(cpr10.str[4:6]).astype("int64")
    d7 = pd.to_numeric(cpr10.str[6]).astype("int64")
    year = np.select(
        [d7 <= 3, d7.isin([4, 9]), d7.between(5, 8)],
        [1900 + yy, np.where(yy <= 36, 2000 + yy, 1900 + yy), np.where(yy <= 57, 2000 + yy, 1800 + yy)],
    )
    return pd.Series(year, index=cpr10.index, dtype="Int64")


def persons_from_cprs(cpr10: pd.Series, key: bytes) -> pd.DataFrame:
    """The persons table (person_id, gender, birth_year) for the distinct valid CPRs."""
    distinct = pd.Series(cpr10.dropna().unique(), dtype=object)
    gender = np.where(pd.to_numeric(distinct.str[9]).astype("int64") % 2 == 1, "M", "K")
    frame = pd.DataFrame({"person_id": person_ids(distinct, key), "gender": gender.astype(object),
                          "birth_year": birth_year(distinct)})
    return frame.sort_values("person_id", ignore_index=True)
