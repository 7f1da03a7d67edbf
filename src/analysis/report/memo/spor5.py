"""Spor 5, the pilot project and the way out of the shelters: referrals and move-ins against the places,
discharge reasons, and the citizens with many shelter stays."""
from __future__ import annotations

import math

import pandas as pd

from analysis.base import fmt
from analysis.months import period_label
from analysis.params import Params
from analysis.report import charts
from analysis.report import show as out
from analysis.report.memo import Memo
from analysis.report.published import Figures

DISCHARGE_DA = {
    "egen_bolig": "Egen bolig", "udslusningsbolig": "Udslusningsbolig", "skaev_bolig": "Skæv bolig",
    "botilbud": "Botilbud (§ 107/108)", "andet_herberg": "Andet herberg (§ 110)", "familie_venner": "Familie/venner",
    "behandling": "Behandling (hospital, psykiatri, misbrug)", "faengsel": "Fængsel", "doed": "Død", "gaden": "Gaden",
    "ukendt": "Ukendt", "andet": "Andet", "": "I alt",
}


def pilot_chart(figs: Figures, params: Params) -> pd.DataFrame:
    """Cumulative referrals and move-ins from the pilot start, with the target as a flat series."""
    start = period_label(pd.Period(pd.Timestamp(str(params["pilot.start_date"])), "M"))
    periods = [p for p in figs.history if p >= start]
    data = figs.series({("pilot_referred", ""): "Indstillet", ("pilot_moved_in", ""): "Flyttet ind"}, periods)
    # named without its number: the chart writes the value at the line's end ("Pladser ad gangen: 50")
    target = pd.DataFrame({"period": periods, "serie": "Pladser ad gangen",
                           "value": float(params["targets.pilot_places"])})
    return pd.concat([data, target], ignore_index=True)


def pilot_text(figs: Figures, params: Params) -> str:
    """The pilot's target read right: the places are the places in use at once, referrals can exceed them."""
    places = params["targets.pilot_places"]
    return (f"Pilotprojektet har {places} udslusningsboliger ad gangen. Flere borgere end {places} kan derfor være "
            f"indstillet over tid, når nogle flytter videre; {figs.text('pilot_referred')} er indstillet i alt, "
            f"{figs.text('pilot_moved_in')} er flyttet ind.\n")


def pilot_alt(figs: Figures, params: Params) -> str:
    return (f"Linjediagram: akkumuleret antal borgere indstillet til pilotprojektet og flyttet ind fra "
            f"{fmt.date(params['pilot.start_date'])} til {fmt.period(figs.m)}; ved udgangen af {fmt.period(figs.m)} "
            f"{figs.text('pilot_referred')} indstillet og {figs.text('pilot_moved_in')} flyttet ind; pilotprojektet "
            f"har {fmt.number(int(params['targets.pilot_places']))} pladser ad gangen.")


def discharge_table(figs: Figures) -> pd.DataFrame:
    """Discharge reasons: Copenhagen citizens on the municipality's own shelters (month, 12 months) beside all
    episodes on every shelter (12 months). The two populations differ, so "Andet herberg" can be small in one and
    large in the other: moves between shelters happen mostly on the private and self-governing shelters."""
    own, everyone = "Egne herberger, københavnere", "Alle herberger, alle borgere"
    rows = [{"Udskrivningsgrund": label, f"{own}: {fmt.period(figs.m)}": figs.text("discharges_cph_own_shelters", c),
             f"{own}: seneste 12 mdr.": figs.text("discharges_cph_own_shelters_12m", c),
             f"{everyone}: seneste 12 mdr.": figs.text("episodes_ended_12m", c)}
            for c, label in DISCHARGE_DA.items()]
    return pd.DataFrame(rows)


def discharge_text(figs: Figures) -> str:
    """What a reader must know to read the discharge table: the unknown share and the median episode length."""
    unknown, total = figs.value("episodes_ended_12m", "ukendt"), figs.value("episodes_ended_12m")
    share = fmt.pct(unknown / total) if total > 0 and not math.isnan(unknown) else fmt.MISSING
    return (f"»Ukendt« er udskrivninger, hvor herberget ikke har registreret en grund ({share} af alle afsluttede "
            "forløb de seneste 12 måneder). Andelen er for høj til, at fordelingen på de øvrige grunde kan læses som "
            "sikker; forvaltningen følger op med herbergerne om registreringen. Et afsluttet forløb varede i median "
            f"{figs.text('episode_length_median_12m')} døgn. De to første kolonner tæller udskrivninger fra "
            "kommunens egne herberger; den sidste tæller forløb, og et forløb, der fortsætter på et andet herberg, er "
            "ikke afsluttet. Derfor er »Andet herberg« stor i de første kolonner og næsten nul i den sidste.\n")


def frequent_users_text(figs: Figures) -> str:
    """The frequent users this month and a year ago in a sentence (a 12-row table repeated the same three figures)."""
    year_ago = period_label(figs.month - 12)
    return (f"**Borgere med mange forløb.** {figs.text('frequent_users')} borgere har haft mindst tre herbergsforløb det "
            f"seneste år ({figs.text('frequent_users', period=year_ago)} for et år siden). I {fmt.period(figs.m)} stod "
            f"de for {figs.text('frequent_user_admissions')} af {figs.text('inflow')} indskrivninger og "
            f"{figs.text('frequent_user_discharges')} af {figs.text('outflow')} udskrivninger.\n")


def show(memo: Memo) -> None:
    figs, params = memo.figures, memo.params
    memo.show_status(5)
    out.figure(charts.line_chart(pilot_chart(figs, params), "period", "value", hue="serie",
                                 title="Pilotprojektet: indstillet og flyttet ind", ylabel="Borgere"),
               "spor5_pilot", alt=pilot_alt(figs, params),
               caption="Borgere indstillet til og flyttet ind i udslusningsbolig i pilotprojektet (akkumuleret)")
    out.md(pilot_text(figs, params))
    out.table(discharge_table(figs), caption="Udskrivningsgrunde: københavnske borgere på kommunens egne herberger, og "
                                             "alle forløb på alle herberger")
    out.md(discharge_text(figs))
    out.md(frequent_users_text(figs))
