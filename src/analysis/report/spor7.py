"""Spor 7 of the status memo: the capacity forecast's headline figures.

The three numbers management asks for (§110 places needed at the horizon,
dwellings needed next year, the extra cost of the new reimbursement rules)
come from the published indicator table only, so the memo and the
capacity-forecast report can never disagree. A figure that is not there says
"endnu ikke tilgængelig"; nothing is estimated here.
"""
from __future__ import annotations

import pandas as pd

from analysis.months import parse_month
from analysis.report import fmt
from analysis.report import show as out
from analysis.report.spor4 import NOT_YET, Figures

FORECAST_IDS = ("forecast_places_110", "forecast_dwellings_needed", "reimbursement_extra_cost")


def _with_band(figs: Figures, indicator: str, scenario: str, year: str) -> str:
    v = figs.value(indicator, scenario, year)
    if v is None:
        return NOT_YET
    lo, hi = figs.value(indicator, f"{scenario}_lo80", year), figs.value(indicator, f"{scenario}_hi80", year)
    band = f" (80 %-interval {fmt.number(lo)}–{fmt.number(hi)})" if lo is not None and hi is not None else ""
    return fmt.number(v) + band


def _mio(v: float | None) -> str:
    return NOT_YET if v is None else f"{fmt.number(v / 1e6, 1)} mio. kr."


def _accuracy_line(indicators: pd.DataFrame, month: str) -> str:
    """The evaluation module's plain-Danish sentence on the published backtest rows (empty without them)."""
    from analysis.forecast.accuracy import accuracy_sentence

    rows = indicators[indicators["indicator"].isin(["backtest_mae_12m", "backtest_origins_12m"])
                      & (indicators["period"] == month)]
    if rows.empty:
        return ""
    table = rows.pivot_table(index="breakdown", columns="indicator", values="value").rename(
        columns={"backtest_mae_12m": "mae", "backtest_origins_12m": "origins"})
    sentence = accuracy_sentence(table.rename_axis("method").reset_index().assign(horizon="12"))
    return f"- {sentence}" if sentence else ""


def headline_markdown(indicators: pd.DataFrame, month: str, horizon_end: str, refer_to_report: bool = True) -> str:
    """Danish bullet list of the Spor 7 figures for reference month ``month``.

    The memo refers the reader on to the forecast report; the report itself does not.
    """
    figs = Figures(indicators, month)
    if not indicators["indicator"].isin(FORECAST_IDS).any():
        return f"Kapacitetsprognosen er {NOT_YET} for {fmt.period(month)}."
    next_year = str(parse_month(month).year + 1)
    horizon = str(parse_month(horizon_end).year)
    today = figs.value("shelter_places", "110")
    gap = figs.value("forecast_places_110_gap", "baseline", horizon)
    gap_text = f"; forskel til i dag {'+' if gap > 0 else ''}{fmt.number(gap)}" if gap is not None else ""
    today_text = f" mod {fmt.number(today)} pladser i dag{gap_text}" if today is not None else gap_text
    reform = figs.value("forecast_places_110", "reform", horizon)
    reform_text = f" I reformscenariet: {fmt.number(reform)} pladser." if reform is not None else ""
    mase_text = _accuracy_line(indicators, month)
    last_year = str(parse_month(month).year - 1)
    before = figs.value("reimbursement_extra_cost", "history", last_year)
    # Before the rules took effect the historical extra cost is zero by construction: say nothing.
    before_text = f" (i {last_year}: {_mio(before)})" if before else ""
    lines = [
        "Basisscenariet (det seneste års niveau, uden tendens):",
        "",
        f"- Behov for § 110-pladser i {horizon}: {_with_band(figs, 'forecast_places_110', 'baseline', horizon)}"
        f"{today_text}.{reform_text}",
        f"- Boliger til borgere fra herberg i {next_year}: "
        f"{_with_band(figs, 'forecast_dwellings_needed', 'baseline', next_year)}.",
        f"- Meromkostning ved de nye refusionsregler i {next_year}: "
        f"{_mio(figs.value('reimbursement_extra_cost', 'baseline', next_year))}{before_text}.",
        mase_text,
        "",
        "Scenarier, usikkerhed og forudsætninger: se rapporten *Kapacitetsprognose*." if refer_to_report else None,
    ]
    return "\n".join(line for line in lines if line is not None).replace("\n\n\n", "\n\n")


def show(ctx, indicators: pd.DataFrame) -> None:
    """Display the Spor 7 headline figures in the memo."""
    out.md(headline_markdown(indicators, ctx.month_label, str(ctx.params["forecast.horizon_end"])))
