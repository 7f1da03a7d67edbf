"""What every notebook needs to know about the run it is part of.

Notebooks receive plain strings from papermill; this turns them into resolved
paths, the reference month and the parameters, the same way in every step, so
an analyst running a notebook by hand gets the same defaults as the scheduler.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd
import yaml

from analysis.months import last_complete_month, parse_month, period_label
from analysis.params import Params, load_params

# The build folder's indicator files, relative to it; spelled here only (runner, step modules and notebooks use these).
INDICATOR_FILE = "indicators/{step}.parquet"  # one indicator step's rows, before suppression
UNSUPPRESSED_TABLE = "indicators/unsuppressed.parquet"  # all steps' rows together, for the analysts
PUBLISHED_TABLE = "indicators/published.parquet"  # the suppressed table, the only one published


def project_root(start: Path | None = None) -> Path:
    """The folder holding pyproject.toml, searched upwards from ``start`` (default: cwd)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() and (folder / "src" / "analysis").exists():
            return folder
    return Path(__file__).resolve().parents[2]


def resolve(path: str | Path, root: Path | None = None) -> Path:
    """Absolute path; relative ones are taken from the project root, not the notebook's folder."""
    p = Path(path)
    return p if p.is_absolute() else (root or project_root()) / p


def indicator_file(build_dir: Path, step: str) -> Path:
    """Where indicator step ``step`` writes its rows (its folder created), and where the assemble step reads them."""
    path = build_dir / INDICATOR_FILE.format(step=step)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def read_extract_date(raw_dir: Path) -> tuple[pd.Timestamp, str]:
    """The extract date from ``udtraek.yml``, the delivery's own description (data contract §1).

    A missing file is a missing extract (README: exit 3); a file that is not a mapping with a valid
    ``udtraeksdato: YYYY-MM-DD`` is bad data naming the file (never a guess from file dates, which say when
    the files were copied, not what they hold).
    """
    from analysis.ingest.errors import DeliveryError, MissingExtractError

    meta = raw_dir / "udtraek.yml"
    if not meta.is_file():
        raise MissingExtractError(f"{meta}: missing (the delivery's udtraek.yml with udtraeksdato: YYYY-MM-DD)")
    try:
        # every scalar as text: YAML would turn 2023-02-31 into its own error, naming no file
        data = yaml.load(meta.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # noqa: S506 - constructs nothing
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        raise DeliveryError(f"{meta}: not readable as YAML (expected udtraeksdato: YYYY-MM-DD)") from None
    if not isinstance(data, dict) or "udtraeksdato" not in data:
        raise DeliveryError(f"{meta}: expected a mapping with udtraeksdato: YYYY-MM-DD")
    text = str(data["udtraeksdato"]).strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        date = pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise DeliveryError(f"{meta}: udtraeksdato is not a valid date YYYY-MM-DD") from None
    try:  # the rest is read with YAML's types elsewhere (syntetisk: true): a tag or an impossible date must not wait
        yaml.safe_load(meta.read_text(encoding="utf-8"))
    except (yaml.YAMLError, ValueError):
        raise DeliveryError(f"{meta}: holds a value YAML cannot read safely (a tag or an impossible date)") from None
    return date, "udtraek.yml"


@dataclass
class RunContext:
    """Resolved parameters of one notebook execution."""

    month: pd.Period
    raw_dir: Path
    processed_dir: Path
    build_dir: Path
    params: Params
    extract_date: pd.Timestamp
    extract_date_source: str
    overrides: list[str] = field(default_factory=list)

    @property
    def month_label(self) -> str:
        return period_label(self.month)

    @property
    def month_dir(self) -> Path:
        """Month-specific processed tables (cut to the end of M)."""
        return self.processed_dir / self.month_label

    @classmethod
    def from_parameters(
        cls,
        month: str = "",
        raw_dir: str = "data/raw",
        processed_dir: str = "data/processed",
        build_dir: str = "",
        param_overrides: Sequence[str] = (),
        params_files: Sequence[str] = (),
        build_root: str = "build",
    ) -> "RunContext":
        """``build_dir`` empty: ``<build_root>/<M>``, once the default month is known from the extract date."""
        root = project_root()
        raw = resolve(raw_dir, root)
        extract_date, source = read_extract_date(raw)
        ref = parse_month(month) if month else last_complete_month(extract_date)
        build = resolve(build_dir or f"{build_root}/{period_label(ref)}", root)
        build.mkdir(parents=True, exist_ok=True)
        params = load_params(override_files=[resolve(f, root) for f in params_files], overrides=list(param_overrides))
        return cls(ref, raw, resolve(processed_dir, root), build, params, extract_date, source, list(param_overrides))
