"""What every notebook needs to know about the run it is part of.

Notebooks receive plain strings from papermill; this turns them into resolved
paths, the reference month and the parameters, the same way in every step, so
an analyst running a notebook by hand gets the same defaults as the scheduler.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd
import yaml

from analysis.months import last_complete_month, parse_month, period_label
from analysis.params import Params, load_params


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


def read_extract_date(raw_dir: Path) -> tuple[pd.Timestamp, str]:
    """Extract date from ``udtraek.yml``; else the newest file date, and say which (colophon)."""
    meta = raw_dir / "udtraek.yml"
    if meta.exists():
        data = yaml.safe_load(meta.read_text(encoding="utf-8")) or {}
        if "udtraeksdato" in data:
            return pd.Timestamp(str(data["udtraeksdato"])), "udtraek.yml"
    files = [f for f in raw_dir.glob("*") if f.is_file() and f.suffix.lower() in {".csv", ".xlsx"}]
    if not files:
        raise FileNotFoundError(f"{raw_dir}: no extracts found (expected udtraek.yml and <extract>.csv/.xlsx)")
    newest = max(f.stat().st_mtime for f in files)
    return pd.Timestamp(newest, unit="s").normalize(), "file_mtime"


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
