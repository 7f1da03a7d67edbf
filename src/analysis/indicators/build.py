"""One indicator table per run: the core builders, then the union of all steps with suppression.

``build_core_indicators`` is what notebooks/30_indicators.ipynb writes;
``assemble`` is the pipeline's assemble step. Every step's rows go through
``indicator_table``, which checks them against the catalogue, so a figure
without a written definition can never be published.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from analysis.clean import MonthTables
from analysis.indicators import housing, pilot, shelters, support, system
from analysis.indicators import quality as quality_rows
from analysis.indicators.catalogue import load_catalogue
from analysis.indicators.common import COLUMNS
from analysis.params import Params
from analysis.base.suppression import DERIVED_KINDS, PERSON_COUNT_KINDS, suppress

TABLE_BUILDERS = (housing.build, shelters.build, system.build, support.build, pilot.build)


class IndicatorTableError(ValueError):
    """Indicator rows that do not match the catalogue or repeat a cell."""


def check_rows(indicators: pd.DataFrame, catalogue: Mapping[str, Mapping[str, Any]]) -> None:
    """Every id in the catalogue, every breakdown one it lists (or a pattern), no cell twice."""
    problems = []
    for ind, rows in indicators.groupby("indicator"):
        entry = catalogue.get(ind)
        if entry is None:
            problems.append(f"{ind}: not in the catalogue")
            continue
        listed = {str(b) for b in entry["breakdowns"]}
        if not any("<" in b for b in listed):
            extra = set(rows["breakdown"]) - listed - {""}
            if extra:
                problems.append(f"{ind}: breakdowns {sorted(extra)} not listed in the catalogue")
    dupes = indicators.duplicated(["indicator", "period", "breakdown"])
    if dupes.any():
        examples = indicators.loc[dupes, ["indicator", "period", "breakdown"]].head(3).values.tolist()
        problems.append(f"duplicate cells, e.g. {examples}")
    if problems:
        raise IndicatorTableError("indicator rows do not match the catalogue:\n  " + "\n  ".join(problems))


def load_inputs(month_dir: Path, processed_dir: Path) -> tuple[MonthTables, dict[str, Any]]:
    """The month's cleaned tables (``<processed>/<M>/*.parquet``) and ``quality.json`` as plain data.

    The tables are read when first used: the core indicators need seven of the ten, and not income.
    """
    return MonthTables(month_dir), json.loads((Path(processed_dir) / "quality.json").read_text(encoding="utf-8"))


def summary_table(indicators: pd.DataFrame, catalogue: Mapping[str, Mapping[str, Any]], month: pd.Period) -> pd.DataFrame:
    """One line per indicator: Danish label, rows, periods covered and the value at M without breakdown (unformatted)."""
    m = str(month)
    rows = []
    for ind, part in indicators.groupby("indicator"):
        at_m = part[(part["period"] == m) & (part["breakdown"] == "")]["value"]
        rows.append({"Indikator": ind, "Betegnelse": catalogue[ind]["label_da"], "Rækker": len(part),
                     "Perioder": f"{part['period'].min()}–{part['period'].max()}",
                     "Værdi i M (i alt)": at_m.iloc[0] if len(at_m) else float("nan")})
    return pd.DataFrame(rows)


def build_core_indicators(
    month_tables: Mapping[str, pd.DataFrame], quality: Mapping[str, Any], month: pd.Period, params: Params,
) -> pd.DataFrame:
    """All indicators of the catalogue's core areas for reference month M, history included, sorted."""
    frames = [build(month_tables, month, params) for build in TABLE_BUILDERS] + [quality_rows.build(quality, month)]
    return indicator_table(frames, load_catalogue())


def indicator_table(frames: list[pd.DataFrame], catalogue: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Builders' rows as one table: the table's columns and types, checked against the catalogue, sorted.

    Every indicator step passes its rows through here, so a figure without a catalogue entry fails in the
    step that computes it, not only when the steps are assembled.
    """
    out = pd.concat(frames, ignore_index=True)[COLUMNS]
    out["breakdown"] = out["breakdown"].fillna("").astype(str)
    out["value"] = out["value"].astype(float)
    check_rows(out, catalogue)
    return out.sort_values(["indicator", "period", "breakdown"], ignore_index=True)


def assemble(
    frames: list[pd.DataFrame], catalogue: Mapping[str, Mapping[str, Any]], params: Params,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Union of the steps' rows: (unsuppressed for the analysts, published with ``suppressed`` and blanked values).

    The published table also says *why* a cell is hidden (``suppression``: ``primary`` = a count of 1 to
    min_count − 1, ``secondary`` = hidden so a primary cell cannot be recovered by subtraction, ``derived`` = a
    share or median on a small base), so reports can mark ``<5`` only where the count really is small.
    """
    full = indicator_table(frames, catalogue)
    min_count = int(params["disclosure.min_count"])
    published = suppress(full, catalogue, min_count)
    kind = full["indicator"].map(lambda i: catalogue[i]["kind"])
    small = kind.isin(PERSON_COUNT_KINDS) & (full["value"] >= 1) & (full["value"] < min_count)
    published["suppression"] = np.select(
        [~published["suppressed"], small, kind.isin(DERIVED_KINDS)], ["", "primary", "derived"], "secondary")
    return full, published
