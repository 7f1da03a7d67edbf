"""Keyed pseudonyms for CPR numbers (design decision 5).

``person_id`` = HMAC-SHA256(key, normalised 10-digit CPR), first 16 hex
characters: stable across months for the same key, useless without it. Gender
and birth year are derived here, before the CPR is dropped. Nothing in this
module logs a CPR; error messages name rows and columns, never values.

Key rules: a key from the environment or a key file has at least
:data:`MIN_KEY_BYTES` bytes and is not the public demo key. The demo key is used
only when the delivery says ``syntetisk: true`` *and* its CPR numbers are
synthetic by content (every day of month 61–91, ``analysis.synthetic.cpr``):
``Pseudonymiser(demo=True)`` refuses the first real-looking CPR it is given.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from analysis import cpr
from analysis.context import project_root
from analysis.ingest.errors import PseudonymKeyError, SchemaError
from analysis.ingest.reading import by_unique

ENV_KEY = "ANALYSIS_PSEUDONYM_KEY"
ENV_KEY_FILE = "ANALYSIS_PSEUDONYM_KEY_FILE"
# Public on purpose: it only ever pseudonymises the fictitious synthetic CPRs.
DEMO_KEY = b"analysis-synthetic-demo-key (not secret, synthetic data only)"
MALFORMED = "<malformed>"
MIN_KEY_BYTES = 32  # 256 bits, HMAC-SHA256's own strength; a short key could be found by trying every CPR

_CPR_RE = re.compile(r"^(\d{2})(\d{2})(\d{2})-?(\d{4})$")
_CPR_PARTS = r"^(?P<day>\d{2})(?P<month>\d{2})(?P<year>\d{2})-?(?P<serial>\d{4})$"  # _CPR_RE for Arrow (RE2)
_ASCII_WHITESPACE = "".join(chr(c) for c in range(128) if chr(c).isspace())  # what str.strip() strips in ASCII
CPR_MASK = cpr.MASK


DEMO_SOURCE = "demo key (udtraek.yml: syntetisk: true)"


def is_synthetic(raw_dir: Path) -> bool:
    """True only when the delivery itself says so (``syntetisk: true`` in udtraek.yml)."""
    meta = raw_dir / "udtraek.yml"
    if not meta.is_file():
        return False
    return (yaml.safe_load(meta.read_text(encoding="utf-8")) or {}).get("syntetisk") is True


def _checked(key: bytes, where: str) -> bytes:
    """A configured key: long enough, and not the public demo key."""
    if hmac.compare_digest(key, DEMO_KEY):
        raise PseudonymKeyError(f"{where}: this is the public demo key, which is only for the synthetic data; "
                                "use a secret key of your own")
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(f"{where}: the key has {len(key)} bytes (after trimming spaces); it needs at least "
                                f"{MIN_KEY_BYTES} random bytes, e.g. `openssl rand -hex 32 > pseudonym.key`")
    return key


def load_key(raw_dir: Path, project: Path | None = None) -> tuple[bytes, str]:
    """The pseudonymisation key and where it came from (env, key file, or demo key for synthetic data)."""
    if os.environ.get(ENV_KEY):
        return _checked(os.environ[ENV_KEY].strip().encode("utf-8"), ENV_KEY), f"environment variable {ENV_KEY}"
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
        return _checked(key, f"{ENV_KEY_FILE} ({path})"), f"key file ({ENV_KEY_FILE})"
    if is_synthetic(raw_dir):
        return DEMO_KEY, DEMO_SOURCE
    raise PseudonymKeyError(
        f"no pseudonymisation key: set {ENV_KEY} or {ENV_KEY_FILE} (a file outside the project). "
        f"The built-in demo key is only used when {raw_dir / 'udtraek.yml'} says 'syntetisk: true'."
    )


def _normalised(text: str) -> str | float:
    """The 10 digits of one CPR text, or NaN where it is malformed."""
    match = _CPR_RE.match(text.strip())
    if match is None:
        return np.nan
    day, month = match[1], match[2]
    if not (day.isascii() and month.isascii()):  # `\d` also matches non-ASCII digits, which never make a date
        return np.nan
    valid = (1 <= int(day) <= 31 or 61 <= int(day) <= 91) and 1 <= int(month) <= 12
    return "".join(match.groups()) if valid else np.nan


def _normalised_distinct(texts: pd.Series) -> np.ndarray:
    """``_normalised`` of each text, in Arrow's vectorised kernels for ASCII texts.

    For ASCII, RE2 and ``re`` agree on the pattern and ``ascii_trim`` strips what ``str.strip`` does; any other
    text (``\\d`` also matches non-ASCII digits in Python) takes the Python path, so the result is the same.
    """
    cells = pa.array(texts.to_numpy(dtype=object), type=pa.string())
    parts = pc.extract_regex(pc.ascii_trim(cells, characters=_ASCII_WHITESPACE), _CPR_PARTS)  # null: no match
    matched = pc.is_valid(parts)
    day, month = (pc.cast(pc.if_else(matched, parts.field(k), "00"), pa.int8()) for k in ("day", "month"))
    valid = pc.and_(matched, pc.and_(
        pc.or_(pc.and_(pc.greater_equal(day, 1), pc.less_equal(day, 31)),
               pc.and_(pc.greater_equal(day, 61), pc.less_equal(day, 91))),
        pc.and_(pc.greater_equal(month, 1), pc.less_equal(month, 12))))
    digits = pc.binary_join_element_wise(*(parts.field(k) for k in ("day", "month", "year", "serial")), "")
    out = pc.if_else(valid, digits, pa.scalar(None, pa.string())).to_numpy(zero_copy_only=False)
    out[pd.isna(out)] = np.nan
    other = ~pc.string_is_ascii(cells).to_numpy(zero_copy_only=False)
    out[other] = [_normalised(t) for t in texts[other]]
    return out


def normalise_cpr(values: pd.Series) -> pd.Series:
    """10-digit CPR text, or NaN where malformed (valid: month 01–12, day 01–31 or replacement day 61–91).

    A categorical: each distinct text is checked once, and ``Pseudonymiser.person_ids`` then finds the distinct
    CPRs from its codes instead of hashing every cell again.
    """
    codes, texts = pd.factorize(values, sort=False)
    cpr_codes, cprs = pd.factorize(_normalised_distinct(pd.Series(texts).astype(str)))  # malformed (NaN): -1
    return pd.Series(pd.Categorical.from_codes(np.append(cpr_codes, -1)[codes], cprs), index=values.index)


def refuse_cpr_in_column_names(path: Path, columns: Iterable[object]) -> None:
    """A column name shaped like a CPR number stops ingest (exit 4), naming the column by position only.

    Such a name is a data row read as the header (the header row is missing) or a CPR typed into it; either
    way it would reach quality.json, the log and the data-quality report.
    """
    positions = [i for i, name in enumerate(columns, start=1) if cpr.contains(str(name))]
    if positions:
        raise SchemaError(f"{path.name}: the name of column(s) {', '.join(map(str, positions))} is shaped like a CPR "
                          "number (is the header row missing?); the names are not repeated here")


def _may_hold_cpr(texts: pd.Series) -> np.ndarray:
    """Texts with ten ASCII digits at most three characters apart, or any non-ASCII character (other digits,
    dashes): only these can hold a CPR. Found in Arrow's vectorised kernels (RE2), so a million ids like
    ``O0000001`` cost no Python regex each.
    """
    cells = pa.array(texts.astype(str).to_numpy(dtype=object), type=pa.string())
    maybe = pc.or_(pc.match_substring_regex(cells, r"(?:\d\D{0,3}){9}\d"), pc.invert(pc.string_is_ascii(cells)))
    return maybe.to_numpy(zero_copy_only=False)


def cpr_shaped(values: pd.Series) -> pd.Series:
    """Cells holding anything shaped like a CPR number, in any spelling (id and key columns must not)."""
    def shaped(texts: pd.Series) -> pd.Series:
        out = np.zeros(len(texts), dtype=bool)
        maybe = np.flatnonzero(_may_hold_cpr(texts))
        out[maybe] = [cpr.contains(t) for t in texts.iloc[maybe].astype(str)]
        return pd.Series(out)

    return by_unique(values, shaped)


def scrub_cpr(text: pd.Series) -> pd.Series:
    """Mask anything shaped like a CPR number, in any spelling, inside free text (staff do type them into comments)."""
    def masked(texts: pd.Series) -> pd.Series:
        out = texts.copy()
        maybe = np.flatnonzero(_may_hold_cpr(texts))
        out.iloc[maybe] = [cpr.mask(t) for t in texts.iloc[maybe].astype(str)]
        return out

    return by_unique(text, masked)


class Pseudonymiser:
    """``person_id`` per normalised CPR for one ingest, and the persons table of every CPR it has seen.

    Each distinct CPR is hashed once per run, however many extracts hold it, from a keyed HMAC state set
    up once (keying HMAC anew per CPR was most of the cost). The CPRs are held in memory only, for the run.
    With ``demo`` (the public demo key) every CPR must be synthetic by content, day of month 61–91.
    """

    def __init__(self, key: bytes, demo: bool = False) -> None:
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self._ids: dict[str, str] = {}
        self._demo = demo

    def _hmac16(self, cpr: str) -> str:
        mac = self._keyed.copy()
        mac.update(cpr.encode("ascii"))
        return mac.hexdigest()[:16]

    def person_ids(self, cpr10: pd.Series) -> pd.Series:
        """Pseudonym per normalised CPR (NA stays NA)."""
        codes, uniques = pd.factorize(cpr10)  # from the codes where ``cpr10`` is categorical (``normalise_cpr``)
        ids = self._ids
        new = [number for number in uniques if number not in ids]
        if self._demo:
            real = sum(1 for number in new if int(number[:2]) < 61)
            if real:
                raise PseudonymKeyError(
                    f"{real} CPR number(s) have a real day of month (01–31), but the run uses the public demo key "
                    "(udtraek.yml says 'syntetisk: true'), which is only for synthetic CPR numbers (day 61–91): "
                    f"set {ENV_KEY_FILE} to a secret key, and remove 'syntetisk: true' if the data is real")
        for number in new:
            ids[number] = self._hmac16(number)
        hashed = np.array([ids[number] for number in uniques] + [np.nan], dtype=object)
        return pd.Series(hashed[codes], index=cpr10.index, dtype=object)  # code -1 (no CPR) picks the NaN

    def persons(self) -> pd.DataFrame:
        """The persons table (person_id, gender, birth_year) for the distinct CPRs pseudonymised so far."""
        distinct = pd.Series(list(self._ids), dtype=object)
        gender = np.where(_digits(distinct, [9])[:, 0] % 2 == 1, "M", "K")
        frame = pd.DataFrame({"person_id": pd.Series(list(self._ids.values()), dtype=object),
                              "gender": gender.astype(object), "birth_year": birth_year(distinct)})
        return frame.sort_values("person_id", ignore_index=True)


def _digits(cpr10: pd.Series, positions: list[int]) -> np.ndarray:
    """The digits at ``positions`` of each normalised CPR, one row each, read from the characters' code points
    (``to_numeric`` on text slices was most of the time of the persons table)."""
    chars = np.array(cpr10.tolist(), dtype="U10").view(np.uint32).reshape(len(cpr10), 10)[:, positions]
    digits = chars.astype(np.int64) - ord("0")
    if not ((digits >= 0) & (digits <= 9)).all():
        raise ValueError("birth year and gender need normalised CPR numbers (10 digits)")
    return digits


def birth_year(cpr10: pd.Series) -> pd.Series:
    """Standard century rule on the 7th digit."""
    digits = _digits(cpr10, [4, 5, 6])
    yy, d7 = digits[:, 0] * 10 + digits[:, 1], digits[:, 2]
    year = np.select(
        [d7 <= 3, np.isin(d7, [4, 9]), (d7 >= 5) & (d7 <= 8)],
        [1900 + yy, np.where(yy <= 36, 2000 + yy, 1900 + yy), np.where(yy <= 57, 2000 + yy, 1800 + yy)],
    )
    return pd.Series(year, index=cpr10.index, dtype="Int64")
