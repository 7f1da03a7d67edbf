"""Page 1 of the status memo: the title with its month, the key figures and one row per track.

A head of department reads the first page and decides whether to read on, so
the overview says for each track how it stands (the analysts' word from the
status file), what happened (a live figure from the published indicator table)
and the next step (the analysts' words). Figures come from :class:`views.Memo`,
so page 1 cannot disagree with the tables further down.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

import pandas as pd

from analysis.indicators.views import Memo
from analysis.months import period_label
from analysis.params import Params
from analysis.base import fmt

APPENDIX_FILE = "technical_appendix.html"  # the technical appendix step's output, published beside the memo
TITLE = "Status på bolig- og hjemløseaftalen"
NOT_GIVEN = "Ikke angivet i statusteksten"
# Page 1 names the tracks short, so the table fits the page; the sections below carry the full titles.
SHORT_TITLES = {1: "Betalbare boliger", 2: "Pladser og botilbud", 3: "Bostøtte", 4: "Sagsbehandling og ydelser",
                5: "Pilotprojektet", 6: "Inddragelse og samarbejde", 7: "Økonomi"}
STATUS_WORDS = ("I gang", "Forsinket", "Afsluttet", "Ikke startet", "Afventer")


def title_block(month: pd.Period, title: str = TITLE) -> str:
    """A metadata block that gives the document its title with the month ("… pr. februar 2023").

    The front matter cannot know the month; pandoc lets a later metadata block
    override the title, so the memo names its month in the title, the browser tab and the docx.
    """
    text = f"{title} pr. {fmt.period(month)}"
    return f"---\ntitle: {json.dumps(text, ensure_ascii=False)}\n---\n"


def _track_figures(memo: Memo, params: Params) -> dict[int, Callable[[], str]]:
    """One sentence per track with the month's figure that best shows where it stands (track 6 has no
    figure: the overview quotes the analysts' first sentence)."""
    month = fmt.period(memo.m)
    target_subsidy, target_pilot = params["targets.subsidised_dwellings"], params["targets.pilot_places"]

    def places() -> str:
        return (f"{memo.text('shelter_places', None, '110')} pladser efter § 110 og "
                f"{memo.text('shelter_places', None, '107')} efter § 107 ved udgangen af {month}.")

    return {
        1: lambda: (f"{memo.text('dwellings_received', None, 'rent_4500_5000')} boliger til 4.500–5.000 kr. modtaget i "
                    f"{month} ({fmt.number(memo.value('dwellings_received_ytd', None, 'rent_4500_5000'))} i år); "
                    f"{memo.text('subsidised_dwellings_allocated')} af {fmt.number(target_subsidy)} boliger med "
                    "statsligt tilskud er taget i brug."),
        2: places,
        3: lambda: f"{memo.text('support_active')} borgere har et aktivt bostøtteforløb, heraf {memo.text('support_active', None, 'CTI')} CTI.",
        4: lambda: (f"{_share(memo, 'housing_retention_12m')} bor stadig i boligen efter 12 måneder; "
                    f"{_share(memo, 'payment_sufficient_share', 'after_12m')} har efter 12 måneder "
                    "mindst normens rådighedsbeløb."),
        5: lambda: (f"{memo.text('pilot_referred')} borgere indstillet og {memo.text('pilot_moved_in')} flyttet ind "
                    f"(pladser i pilotprojektet: {target_pilot})."),
        7: lambda: _economy(memo, params),
    }


def _share(memo: Memo, indicator: str, breakdown: str = "") -> str:
    """A share in whole per cent, as Spor 4 writes it (a hidden or missing share keeps its mark)."""
    value = memo.value(indicator, None, breakdown)
    return fmt.pct(value) if value == value else memo.text(indicator, None, breakdown, share=True)


def _economy(memo: Memo, params: Params) -> str:
    """Spor 7 on page 1: the § 107 need against today's places, and the budget year's extra cost."""
    from analysis.report import budget

    year = budget.budget_years(memo.month)[0]
    need, today = memo.value("forecast_places_107", str(year), "baseline"), memo.value("shelter_places", None, "107")
    cost = memo.value("reimbursement_extra_cost", str(year), "baseline")
    if need != need:  # NaN: no forecast published for this month
        return "Kapacitetsprognosen er endnu ikke tilgængelig."
    extra = (f"; meromkostning ved de nye refusionsregler {fmt.number(cost * budget.price_factor(params, year) / 1e6, 1)} "
             f"mio. kr. i budgetåret ({year}-priser)" if cost == cost else "")
    return (f"Behov for {fmt.number(need)} pladser efter § 107 i {year} mod {fmt.number(today)} i dag "
            f"(basisscenariet){extra}.")


def _first_sentence(text: str) -> str:
    head = " ".join(text.split())
    cut = head.find(". ")
    return head if cut < 0 else head[:cut + 1]


def track_overview(status: Mapping[str, Any], memo: Memo, params: Params) -> pd.DataFrame:
    """One row per track: status word, what happened (live figure), next step (the analysts' words).

    ``status_kort`` and ``naeste_skridt`` are optional fields of each track in the
    status file; where they are missing the overview says so instead of guessing.
    """
    figures = _track_figures(memo, params)
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
    return pd.DataFrame(rows)


KEY_FIGURES = (
    ("persons_in_shelter", "", "Borgere på herberg ved månedens udgang"),
    ("inflow", "", "Tilgang til herberg (forløb startet i måneden)"),
    ("outflow", "to_housing", "Afgang fra herberg til bolig"),
    ("dwellings_received", "rent_4500_5000", "Boliger modtaget til 4.500–5.000 kr."),
    ("pilot_moved_in", "", "Pilotprojektet: flyttet ind i alt"),
    ("shelter_places", "107", "Pladser efter § 107"),
)


def key_figures(memo: Memo) -> pd.DataFrame:
    """The month's headline figures with the change from the month before and from a year before.

    A change is shown only where both months are published unsuppressed, so it never reveals a hidden small count.
    """
    before, year_ago = period_label(memo.month - 1), period_label(memo.month - 12)
    return pd.DataFrame([{
        "Nøgletal": label,
        fmt.period(memo.m): memo.text(ind, None, b),
        f"Ændring fra {fmt.period(before)}": fmt.change(memo.value(ind, None, b), memo.value(ind, before, b)),
        f"Ændring fra {fmt.period(year_ago)}": fmt.change(memo.value(ind, None, b), memo.value(ind, year_ago, b)),
    } for ind, b, label in KEY_FIGURES])


def plain_definitions(min_count: int) -> str:
    """»Sådan læses tallene«: the definitions a reader needs, in plain Danish, grouped by track."""
    from importlib import resources

    import yaml

    entries = yaml.safe_load(resources.files("analysis.report").joinpath("texts/definitions_da.yml").read_text("utf-8"))
    body = "\n".join(f"**{e['titel']}.** {e['tekst'].format(min_count=min_count)}\n" for e in entries)
    return f"::: {{.definitions}}\n{body}\n:::\n"  # a class the print style sets in two columns


def appendix_link(file_name: str) -> str:
    """The colophon's pointer to the technical appendix (indicator catalogue, parameters, method notes)."""
    return (f"Indikatorernes præcise definitioner, alle parametre med kilder, datakvaliteten og metodenoterne står i "
            f"det tekniske bilag: [Teknisk bilag]({file_name}) (ligger i samme mappe som dette notat).\n")
