"""Page 1 of the status memo: the title with its month, the key figures and one row per track.

A head of department reads the first page and decides whether to read on, so
the overview says for each track how it stands (the analysts' word from the
status file), what happened (a live figure from the published indicator table)
and the next step (the analysts' words). Figures come from :class:`Figures`,
so page 1 cannot disagree with the tables further down.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import pandas as pd

from analysis.base import fmt
from analysis.months import period_label
from analysis.params import Params
from analysis.report import budget, document, narrative
from analysis.report import show as out
from analysis.report.memo import Memo
from analysis.report.published import NOT_YET, Figures

TITLE = "Status på bolig- og hjemløseaftalen"
NOT_GIVEN = "Ikke angivet i statusteksten"
# Page 1 names the tracks short, so the table fits the page; the sections below carry the full titles.
SHORT_TITLES = {1: "Betalbare boliger", 2: "Pladser og botilbud", 3: "Bostøtte", 4: "Sagsbehandling og ydelser",
                5: "Pilotprojektet", 6: "Inddragelse og samarbejde", 7: "Økonomi"}


def head(memo: Memo) -> None:
    """The memo's title with its month and how to read it, before page 1's heading."""
    month, min_count = memo.figures.month, memo.min_count
    out.md(document.title_block(month, TITLE))
    out.md(f"""Overblik først, derefter de syv spor med forvaltningens statustekst og tallene. Tal under {min_count} vises som
»<{min_count}« (se »Sådan læses tallene« sidst).

{narrative.fallback_note(memo.status_month, month)}""")


def show(memo: Memo) -> None:
    """Page 1: the key figures and the seven tracks at a glance."""
    figs = memo.figures
    out.table(key_figures(figs), caption=f"Nøgletal for {fmt.period(figs.month)} med ændring fra måneden før og fra "
                                         "samme måned sidste år")
    tracks = track_overview(memo.texts.status, figs, memo.params)
    shown = {"Status": "status", "Det skete": "hvad der skete", "Næste skridt": "næste skridt"}
    parts = [words for column, words in shown.items() if column in tracks]
    out.table(tracks, caption=f"De syv spor: {', '.join(parts[:-1])} og {parts[-1]}" if len(parts) > 1
              else f"De syv spor: {parts[0]}")


def _track_figures(figs: Figures, params: Params) -> dict[int, Callable[[], str]]:
    """One sentence per track with the month's figure that best shows where it stands (track 6 has no
    figure: the overview quotes the analysts' first sentence)."""
    month = fmt.period(figs.m)
    target_subsidy, target_pilot = params["targets.subsidised_dwellings"], params["targets.pilot_places"]

    def places() -> str:
        return (f"{figs.text('shelter_places', '110')} pladser efter § 110 og "
                f"{figs.text('shelter_places', '107')} efter § 107 ved udgangen af {month}.")

    return {
        1: lambda: (f"{figs.text('dwellings_received', 'rent_4500_5000')} boliger til 4.500–5.000 kr. modtaget i "
                    f"{month} ({fmt.number(figs.value('dwellings_received_ytd', 'rent_4500_5000'))} i år); "
                    f"{figs.text('subsidised_dwellings_allocated')} af {fmt.number(target_subsidy)} boliger med "
                    "statsligt tilskud er taget i brug."),
        2: places,
        3: lambda: f"{figs.text('support_active')} borgere har et aktivt bostøtteforløb, heraf {figs.text('support_active', 'CTI')} CTI.",
        4: lambda: (f"{figs.pct('housing_retention_12m')} bor stadig i boligen efter 12 måneder; "
                    f"{figs.pct('payment_sufficient_share', 'after_12m')} har efter 12 måneder "
                    "mindst normens rådighedsbeløb."),
        5: lambda: (f"{figs.text('pilot_referred')} borgere indstillet og {figs.text('pilot_moved_in')} flyttet ind "
                    f"(pladser i pilotprojektet: {target_pilot})."),
        7: lambda: _economy(figs, params),
    }


def _economy(figs: Figures, params: Params) -> str:
    """Spor 7 on page 1: the § 107 need against today's places, and the budget year's extra cost."""
    year = budget.budget_years(figs.month)[0]
    need, today = figs.value("forecast_places_107", "baseline", str(year)), figs.value("shelter_places", "107")
    cost = figs.value("reimbursement_extra_cost", "baseline", str(year))
    if need != need:  # NaN: no forecast published for this month
        return f"Kapacitetsprognosen er {NOT_YET}."
    extra = (f"; meromkostning ved de nye refusionsregler {fmt.number(cost * budget.price_factor(params, year) / 1e6, 1)} "
             f"mio. kr. i budgetåret ({year}-priser)" if cost == cost else "")
    return (f"Behov for {fmt.number(need)} pladser efter § 107 i {year} mod {fmt.number(today)} i dag "
            f"(basisscenariet){extra}.")


def _first_sentence(text: str) -> str:
    head = " ".join(text.split())
    cut = head.find(". ")
    return head if cut < 0 else head[:cut + 1]


def track_overview(status: Mapping[str, Any], figs: Figures, params: Params) -> pd.DataFrame:
    """One row per track: status word, what happened (live figure), next step (the analysts' words).

    ``status_kort`` and ``naeste_skridt`` are optional fields of each track in the
    status file; where a track lacks one the overview says so instead of guessing, and a
    column no track fills is left out (seven times "Ikke angivet" tells a reader nothing).
    """
    figures = _track_figures(figs, params)
    rows = []
    for track in sorted(status.get("spor", []), key=lambda t: int(t["nr"])):
        nr = int(track["nr"])
        happened = figures[nr]() if nr in figures else _first_sentence(str(track.get("status", "")))
        rows.append({
            "Spor": f"{nr}. {SHORT_TITLES.get(nr, track['titel'].split(' - ')[0])}",
            "Status": str(track.get("status_kort") or NOT_GIVEN),
            "Det skete": happened,
            "Næste skridt": " ".join(str(track.get("naeste_skridt") or NOT_GIVEN).split()),
        })
    table = pd.DataFrame(rows)
    return table.loc[:, [c for c in table.columns if not (table[c] == NOT_GIVEN).all()]]


KEY_FIGURES = (
    ("persons_in_shelter", "", "Borgere på herberg ved månedens udgang"),
    ("inflow", "", "Tilgang til herberg (forløb startet i måneden)"),
    ("outflow", "to_housing", "Afgang fra herberg til bolig"),
    ("dwellings_received", "rent_4500_5000", "Boliger modtaget til 4.500–5.000 kr."),
    ("pilot_moved_in", "", "Pilotprojektet: flyttet ind i alt"),
    ("shelter_places", "107", "Pladser efter § 107"),
)


def key_figures(figs: Figures) -> pd.DataFrame:
    """The month's headline figures with the change from the month before and from a year before.

    A change is shown only where both months are published unsuppressed, so it never reveals a hidden small count.
    """
    before, year_ago = period_label(figs.month - 1), period_label(figs.month - 12)
    return pd.DataFrame([{
        "Nøgletal": label,
        fmt.period(figs.m): figs.text(ind, b),
        f"Ændring fra {fmt.period(before)}": fmt.change(figs.value(ind, b), figs.value(ind, b, before)),
        f"Ændring fra {fmt.period(year_ago)}": fmt.change(figs.value(ind, b), figs.value(ind, b, year_ago)),
    } for ind, b, label in KEY_FIGURES])
