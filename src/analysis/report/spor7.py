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
from analysis.base import fmt
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


def _gap_words(gap: float | None) -> str:
    """``+61`` reads as "61 flere end i dag" (a sign in running text is easily missed)."""
    if gap is None:
        return ""
    if round(gap) == 0:
        return ": det samme som i dag"
    return f": {fmt.number(abs(gap))} {'flere' if gap > 0 else 'færre'} end i dag"


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


def _places_text(figs: Figures, paragraph: str, horizon: str) -> str:
    today = figs.value("shelter_places", paragraph)
    gap_text = _gap_words(figs.value(f"forecast_places_{paragraph}_gap", "baseline", horizon))
    return f" mod {fmt.number(today)} pladser i dag{gap_text}" if today is not None else gap_text


def _cost_text(figs: Figures, year: str, factor: float, price_label: str) -> str:
    """The extra cost in the budget year, baseline and the range over every scenario, at one price level."""
    base = figs.value("reimbursement_extra_cost", "baseline", year)
    if base is None:
        return f"{NOT_YET}."
    t = figs.table
    cells = t[(t["indicator"] == "reimbursement_extra_cost") & (t["period"] == year)
              & ~t["breakdown"].isin(["history"]) & t["value"].notna()]["value"]
    spread = (f"; i de {len(cells)} scenarier fra {fmt.number(cells.min() * factor / 1e6, 1)} til "
              f"{fmt.number(cells.max() * factor / 1e6, 1)} mio. kr." if len(cells) > 1 else "")
    return f"{fmt.number(base * factor / 1e6, 1)} mio. kr. i basisscenariet{spread} ({price_label})."


def headline_markdown(indicators: pd.DataFrame, month: str, horizon_end: str, refer_to_report: bool = True,
                      price_factor: float = 1.0, price_label: str = "takstårets priser") -> str:
    """Danish bullet list of the Spor 7 figures for reference month ``month``.

    The memo refers the reader on to the forecast report; the report itself does not. Costs are
    multiplied by ``price_factor`` to the price level ``price_label`` names (the budget table's).
    """
    figs = Figures(indicators, month)
    if not indicators["indicator"].isin(FORECAST_IDS).any():
        return f"Kapacitetsprognosen er {NOT_YET} for {fmt.period(month)}."
    next_year = str(parse_month(month).year + 1)
    horizon = str(parse_month(horizon_end).year)
    today_text = _places_text(figs, "110", horizon)
    reform = figs.value("forecast_places_110", "reform", horizon)
    reform_text = f" I reformscenariet: {fmt.number(reform)} pladser." if reform is not None else ""
    mase_text = _accuracy_line(indicators, month)
    lines = [
        "Basisscenariet (det seneste års niveau, uden tendens); behov for pladser er gennemsnittet over året, "
        "boliger og "
        "bostøtte står i tabellen:",
        "",
        f"- Behov for § 110-pladser i {horizon}: {_with_band(figs, 'forecast_places_110', 'baseline', horizon)}"
        f"{today_text}.{reform_text}",
        f"- Behov for § 107-pladser i {next_year}: {_with_band(figs, 'forecast_places_107', 'baseline', next_year)}"
        f"{_places_text(figs, '107', next_year)}.",
        f"- Meromkostning ved de nye refusionsregler i budgetåret {next_year}: "
        f"{_cost_text(figs, next_year, price_factor, price_label)}",
        mase_text,
        "",
        "Scenarier, usikkerhed og forudsætninger: se rapporten *Kapacitetsprognose*." if refer_to_report else None,
    ]
    return "\n".join(line for line in lines if line is not None).replace("\n\n\n", "\n\n")


def show(ctx, indicators: pd.DataFrame) -> None:
    """Display the Spor 7 headline figures and the needs against today's capacity in the memo."""
    from analysis.report import budget

    horizon = str(parse_month(str(ctx.params["forecast.horizon_end"])).year)
    budget_year = budget.budget_years(ctx.month)[0]
    out.md(headline_markdown(indicators, ctx.month_label, str(ctx.params["forecast.horizon_end"]),
                             price_factor=budget.price_factor(ctx.params, budget_year),
                             price_label=f"faste {budget_year}-priser"))
    if indicators["indicator"].isin(FORECAST_IDS).any():
        out.table(budget.needs_table(indicators, ctx.month, horizon),
                  caption="Basisscenariet: behov (median, 80 %-interval) mod kapacitet og tilgang i dag")
