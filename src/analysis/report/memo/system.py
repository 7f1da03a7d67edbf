"""Systemoverblik: citizens on § 110 shelters and the flows in and out, two years back."""
from __future__ import annotations

from analysis.base import fmt
from analysis.report import charts
from analysis.report import show as out
from analysis.report.memo import Memo
from analysis.report.published import Figures

STOCK = {("persons_in_shelter", ""): "Borgere på herberg (ultimo)"}
FLOWS = {
    ("inflow", "new"): "Tilgang: nye",
    ("inflow", "returning_from_housing"): "Tilgang: tilbage fra bolig",
    ("inflow", "returning_other"): "Tilgang: øvrige tilbagevendte",
    ("outflow", "to_housing"): "Afgang: til bolig",
    ("outflow", "other"): "Afgang: andet",
}


def stock_alt(figs: Figures) -> str:
    first, last = figs.history[0], figs.m
    return (f"Linjediagram over 24 måneder fra {fmt.period(first)} til {fmt.period(last)}: antal borgere på herberg "
            f"ved månedens udgang (fra {figs.text('persons_in_shelter', period=first)} til "
            f"{figs.text('persons_in_shelter')}) samt månedlig tilgang fordelt på nye og tilbagevendte og afgang til "
            f"bolig og andet.")


def show(memo: Memo) -> None:
    """Stock in one chart, the flow components in another (different scales)."""
    figs = memo.figures
    out.figure(charts.line_chart(figs.series(STOCK), "period", "value", hue="serie",
                                 title="Borgere på herberg ved månedens udgang", ylabel="Borgere"),
               "system_bestand", alt=stock_alt(figs), caption="Borgere på § 110-herberg, seneste 24 måneder")
    out.figure(charts.line_chart(figs.series(FLOWS), "period", "value", hue="serie",
                                 title="Tilgang og afgang pr. måned", ylabel="Forløb"),
               "system_flow",
               alt="Linjediagram over 24 måneder med den månedlige tilgang til herberg (nye, tilbage fra bolig, "
                   "øvrige tilbagevendte) og afgang (til bolig, andet); skjulte små tal er udeladt af kurverne.",
               caption="Tilgang og afgang pr. måned (herbergsforløb)")
