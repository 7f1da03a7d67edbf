"""Spor 7 of the status memo: the capacity forecast's headline figures.

The three numbers management asks for (§110 places needed at the horizon,
dwellings needed next year, the extra cost of the new reimbursement rules)
come from the published indicator table only, so the memo and the
capacity-forecast report can never disagree. A figure that is not there prints its
mark and a forecast not yet made says "endnu ikke tilgængelig"; nothing is estimated here.
"""
from __future__ import annotations

import math

from analysis.base import fmt
from analysis.params import Params
from analysis.report import budget
from analysis.report.forecast_report import horizon_year
from analysis.report import show as out
from analysis.report.memo import Memo
from analysis.report.published import NOT_YET, Figures

FORECAST_IDS = ("forecast_places_110", "forecast_dwellings_needed", "reimbursement_extra_cost")
INTERVAL = "80 %-interval "


def has_forecast(figs: Figures) -> bool:
    return bool(figs.table["indicator"].isin(FORECAST_IDS).any())


def _gap_words(gap: float) -> str:
    """``+61`` reads as "61 flere end i dag" (a sign in running text is easily missed)."""
    if math.isnan(gap):
        return ""
    if round(gap) == 0:
        return ": det samme som i dag"
    return f": {fmt.number(abs(gap))} {'flere' if gap > 0 else 'færre'} end i dag"


def _accuracy_line(figs: Figures) -> str:
    """The evaluation module's plain-Danish sentence on the published backtest rows (empty without them)."""
    from analysis.forecast.accuracy import accuracy_sentence

    t = figs.table
    rows = t[t["indicator"].isin(["backtest_mae_12m", "backtest_origins_12m"]) & (t["period"] == figs.m)]
    if rows.empty:
        return ""
    table = rows.pivot_table(index="breakdown", columns="indicator", values="value").rename(
        columns={"backtest_mae_12m": "mae", "backtest_origins_12m": "origins"})
    sentence = accuracy_sentence(table.rename_axis("method").reset_index().assign(horizon="12"))
    return f"- {sentence}" if sentence else ""


def _places_text(figs: Figures, paragraph: str, horizon: str) -> str:
    today = figs.value("shelter_places", paragraph)
    gap_text = _gap_words(figs.value(f"forecast_places_{paragraph}_gap", "baseline", horizon))
    return gap_text if math.isnan(today) else f" mod {fmt.number(today)} pladser i dag{gap_text}"


def _cost_text(figs: Figures, year: str, factor: float, price_label: str) -> str:
    """The extra cost in the budget year, baseline and the range over every scenario, at one price level."""
    base = figs.value("reimbursement_extra_cost", "baseline", year)
    if math.isnan(base):
        return f"{figs.text('reimbursement_extra_cost', 'baseline', year)}."
    cells = figs.cells("reimbursement_extra_cost", year)
    cells = cells.loc[(cells["breakdown"] != "history") & cells["value"].notna(), "value"]
    spread = (f"; i de {fmt.count_word(len(cells))} scenarier fra {fmt.number(cells.min() * factor / 1e6, 1)} til "
              f"{fmt.number(cells.max() * factor / 1e6, 1)} mio. kr." if len(cells) > 1 else "")
    return f"{fmt.number(base * factor / 1e6, 1)} mio. kr. i basisscenariet{spread} ({price_label})."


def headline_markdown(figs: Figures, params: Params, refer_to_report: bool = True) -> str:
    """Danish bullet list of the Spor 7 figures for the reference month.

    The memo refers the reader on to the forecast report; the report itself does not. Costs are
    in the budget year's prices, as in the budget table.
    """
    if not has_forecast(figs):
        return f"Kapacitetsprognosen er {NOT_YET} for {fmt.period(figs.m)}."
    next_year = str(figs.month.year + 1)
    horizon = horizon_year(params)
    price_factor, price_label = budget.budget_prices(params, figs.month)
    today_text = _places_text(figs, "110", horizon)
    reform = figs.value("forecast_places_110", "reform", horizon)
    reform_text = "" if math.isnan(reform) else f" I reformscenariet: {fmt.number(reform)} pladser."
    mase_text = _accuracy_line(figs)
    lines = [
        "Basisscenariet (det seneste års niveau, uden tendens); behov for pladser er gennemsnittet over året, "
        "boliger og "
        "bostøtte står i tabellen:",
        "",
        f"- Behov for § 110-pladser i {horizon}: {budget.with_band(figs, 'forecast_places_110', 'baseline', horizon, INTERVAL)}"
        f"{today_text}.{reform_text}",
        f"- Behov for § 107-pladser i {next_year}: {budget.with_band(figs, 'forecast_places_107', 'baseline', next_year, INTERVAL)}"
        f"{_places_text(figs, '107', next_year)}.",
        f"- Meromkostning ved de nye refusionsregler i budgetåret {next_year}: "
        f"{_cost_text(figs, next_year, price_factor, price_label)}",
        mase_text,
        "",
        "Scenarier, usikkerhed og forudsætninger: se rapporten *Kapacitetsprognose*." if refer_to_report else None,
    ]
    return "\n".join(line for line in lines if line is not None).replace("\n\n\n", "\n\n")


def show(memo: Memo) -> None:
    """The Spor 7 headline figures and the needs against today's capacity; the forecast step previews it."""
    figs = memo.figures
    memo.show_status(7)
    out.md(headline_markdown(figs, memo.params))
    if has_forecast(figs):
        out.table(budget.needs_table(figs, horizon_year(memo.params)),
                  caption="Basisscenariet: behov (median, 80 %-interval) mod kapacitet og tilgang i dag")
