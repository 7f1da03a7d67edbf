"""Spor 1, affordable dwellings: dwellings received by rent band, the state-subsidised and the new-build dwellings."""
from __future__ import annotations

import pandas as pd

from analysis.base import fmt
from analysis.months import period_label
from analysis.params import Params
from analysis.report import charts
from analysis.report import show as out
from analysis.report.memo import Memo
from analysis.report.published import Figures

RENT_BAND_DA = {"rent_lt_4500": "Under 4.500 kr.", "rent_4500_5000": "4.500–5.000 kr.", "rent_gt_5000": "Over 5.000 kr.",
                "": "I alt"}


def dwellings_table(figs: Figures) -> pd.DataFrame:
    """Dwellings received by rent band: month, the month before (the status text quotes it), same month last
    year, year to date and the same period last year."""
    last_year, before = period_label(figs.month - 12), period_label(figs.month - 1)
    rows = []
    for band, label in RENT_BAND_DA.items():
        ytd, ytd_before = figs.value("dwellings_received_ytd", band), figs.value("dwellings_received_ytd", band, last_year)
        rows.append({
            "Husleje pr. md. (ekskl. forbrug)": label,
            fmt.period(figs.m): figs.text("dwellings_received", band),
            fmt.period(before): figs.text("dwellings_received", band, before),
            fmt.period(last_year): figs.text("dwellings_received", band, last_year),
            f"År til dato {figs.month.year}": fmt.number(ytd),
            f"Samme periode {figs.month.year - 1}": fmt.number(ytd_before),
            "Ændring": fmt.change(ytd, ytd_before),
        })
    return pd.DataFrame(rows)


def dwellings_chart(figs: Figures) -> pd.DataFrame:
    return figs.series({("dwellings_received", b): label for b, label in RENT_BAND_DA.items() if b})


def dwellings_alt(figs: Figures) -> str:
    month = fmt.period(figs.m)
    return (f"Linjediagram over 24 måneder til {month}: antal boliger modtaget til boligsocial anvisning pr. måned i "
            f"tre huslejeklasser; i {month} {figs.text('dwellings_received', 'rent_4500_5000')} i klassen "
            "4.500–5.000 kr.")


def subsidised_table(figs: Figures, params: Params) -> pd.DataFrame:
    target = float(params["targets.subsidised_dwellings"])
    done = figs.value("subsidised_dwellings_allocated")
    return pd.DataFrame([{
        "Indflytninger i alt": figs.text("subsidised_dwellings_allocated"),
        "Mål (tilsagn)": fmt.number(target),
        "Andel af målet": fmt.pct(done / target),
        "Endnu ikke anvendt": fmt.number(target - done),
    }])


def permanent_subsidy_text(figs: Figures, params: Params) -> str:
    """New-build with the permanent subsidy in one sentence; "none yet" instead of an empty table."""
    reduction, ceiling = params["permanent_subsidy.monthly_reduction"], params["permanent_subsidy.rent_ceiling"]
    count = figs.value("permanent_subsidy_dwellings")
    head = (f"**Nybyggeri med permanent huslejetilskud.** Tilskuddet sænker huslejen med ca. {fmt.kr(reduction)} om "
            f"måneden; efter tilskuddet må huslejen højst være {fmt.kr(ceiling)} om måneden.")
    if count == 0:  # NaN (suppressed or absent) is not "none": then the count is shown as published below
        return head + " Der er endnu ikke modtaget boliger med permanent huslejetilskud.\n"
    median = "permanent_subsidy_rent_median"
    return (head + f" Modtaget: {figs.text('permanent_subsidy_dwellings')} boliger; median husleje før tilskud "
            f"{figs.kr(median, 'before_reduction')}, efter {figs.kr(median, 'after_reduction')}; "
            f"{figs.text('permanent_subsidy_above_ceiling')} ligger over loftet efter tilskuddet.\n")


def show(memo: Memo) -> None:
    figs = memo.figures
    memo.show_status(1)
    out.table(dwellings_table(figs),
              caption=f"Boliger modtaget til boligsocial anvisning efter husleje: {fmt.period(figs.month)}, måneden "
                      "før, år til dato og samme periode sidste år")
    out.figure(charts.line_chart(dwellings_chart(figs), "period", "value", hue="serie",
                                 title="Boliger modtaget pr. måned efter husleje", ylabel="Boliger"),
               "spor1_boliger", alt=dwellings_alt(figs),
               caption="Boliger modtaget til boligsocial anvisning pr. måned efter husleje (ekskl. forbrug)")
    out.table(subsidised_table(figs, memo.params),
              caption="Indflytninger i boliger med midlertidigt statsligt huslejetilskud mod tilsagnet")
    out.md(permanent_subsidy_text(figs, memo.params))
