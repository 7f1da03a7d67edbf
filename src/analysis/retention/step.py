"""The retention step of the monthly run: read the month's tables, analyse, and write what the memo reads.

Outputs: the step's indicator rows (``analysis.context.indicator_file``, checked
against the catalogue like every indicator step's) and the chart data in
``<build>/retention/`` (aggregates only, tails with few tenancies cut).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import clean
from analysis.context import indicator_file
from analysis.indicators.build import indicator_table
from analysis.indicators.catalogue import load_catalogue
from analysis.params import Params
from analysis.retention import payment, retention, subsidy

STEP = "retention"
TABLES = ("tenancies", "episodes", "support", "income")
AT_RISK_MONTHS = range(0, 25, 3)  # the follow-up months the notebook's at-risk tables show


@dataclass
class RetentionOutputs:
    analysis: retention.RetentionAnalysis
    indicators: pd.DataFrame
    tables: dict[str, pd.DataFrame]  # the notebook's tables for the analysts (not suppressed, never published)
    curves: dict[str, pd.DataFrame]  # chart data by file stem, written for the memo and shown in the notebook


def read_month_tables(month_dir: Path) -> dict[str, pd.DataFrame]:
    """The month's processed tables the step needs; a missing one is an error naming it."""
    return clean.read_month_tables(month_dir, TABLES)


def indicator_rows(analysis: retention.RetentionAnalysis, tables: dict[str, pd.DataFrame], month: pd.Period,
                   params: Params) -> pd.DataFrame:
    """The step's figures for the catalogue's retention area: retention, returns and CTI, payment, subsidy."""
    tenancies, income = tables["tenancies"], tables["income"]
    return indicator_table([
        analysis.indicators(),
        payment.payment_indicators(tenancies, income, month, params),
        subsidy.subsidy_indicators(tenancies, income, month, params),
    ], load_catalogue())


def run_retention(tables: dict[str, pd.DataFrame], month: pd.Period, params: Params) -> RetentionOutputs:
    """Everything the retention step computes, in memory (the notebook writes and shows it)."""
    tenancies, income = tables["tenancies"], tables["income"]
    result = retention.analyse(tenancies, tables["episodes"], tables["support"], month, params)
    panel = payment.payment_panel(tenancies, income, month, float(params["payment.disposable_norm"]))
    views = {
        "at_risk_method": retention.at_risk_table(result.data, "support_method", retention.METHODS, AT_RISK_MONTHS),
        "at_risk_pathway": retention.at_risk_table(result.data, "pathway", retention.PATHWAYS, AT_RISK_MONTHS),
        "income_transitions": payment.income_transitions(panel),
        "subsidy_example": subsidy.yearly(subsidy.schedule(pd.Timestamp(params["state_subsidy.usable_from"]), params)),
        "subsidy_projection": subsidy.projection(tenancies, income, month, params),
    }
    return RetentionOutputs(result, indicator_rows(result, tables, month, params), views,
                            result.curves(int(params["disclosure.min_count"])))


def write_outputs(outputs: RetentionOutputs, build_dir: Path) -> list[Path]:
    """Write the indicator rows and the chart data; returns the files written."""
    rows = indicator_file(build_dir, STEP)
    outputs.indicators.to_parquet(rows, index=False)
    folder = build_dir / STEP
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in outputs.curves.items():
        table.to_parquet(folder / f"{name}.parquet", index=False)
    return [folder / f"{name}.parquet" for name in outputs.curves] + [rows]
