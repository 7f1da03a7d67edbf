"""Spor 2, shelter places: places by paragraph, § 110 occupancy and the screening for conversion to § 107.

The shelter register gives names and ownership (reference data, not figures).
"""
from __future__ import annotations

import pandas as pd

from analysis.base import fmt
from analysis.months import period_label
from analysis.report import show as out
from analysis.report.memo import Memo
from analysis.report.published import Figures

PARAGRAPH_DA = {"110": "§ 110 (herberg)", "107": "§ 107 (midlertidigt botilbud)", "108": "§ 108 (længerevarende botilbud)"}
PROVIDER_DA = {"kommunal": "Kommunal", "selvejende": "Selvejende", "privat": "Privat", "": "I alt"}


def _register_names(shelters: pd.DataFrame) -> pd.DataFrame:
    latest = shelters.sort_values("valid_from").groupby("shelter_id").last()
    return latest[["name", "ownership"]]


def _shelter_label(key: str, names: pd.DataFrame) -> tuple[str, str, str]:
    """(name, Danish ownership, paragraph) of a ``<paragraf>:<herberg_id>`` breakdown."""
    paragraph, shelter_id = key.split(":", 1)
    ownership = names["ownership"].get(shelter_id, "")
    return names["name"].get(shelter_id, shelter_id), PROVIDER_DA.get(ownership, "–"), paragraph


def places_by_shelter(figs: Figures, shelters: pd.DataFrame) -> pd.DataFrame:
    """Places per shelter and paragraph now and a year ago, with name and ownership from the register
    (the technical appendix prints it)."""
    year_ago = period_label(figs.month - 12)
    names = _register_names(shelters)
    keys = pd.concat([figs.cells("shelter_places_by_shelter"), figs.cells("shelter_places_by_shelter", year_ago)])
    rows = []
    for key in sorted(keys.loc[keys["breakdown"] != "", "breakdown"].unique()):
        now, before = figs.value("shelter_places_by_shelter", key), figs.value("shelter_places_by_shelter", key, year_ago)
        if now == 0 and before == 0:
            continue
        name, ownership, paragraph = _shelter_label(key, names)
        rows.append({"Herberg/tilbud": name, "Ejerform": ownership,
                     "Paragraf": f"§ {paragraph}", fmt.period(year_ago): fmt.number(before),
                     fmt.period(figs.m): fmt.number(now), "Ændring": fmt.change(now, before)})
    return pd.DataFrame(rows)


def places_chart(figs: Figures) -> pd.DataFrame:
    return figs.series({("shelter_places", p): label for p, label in PARAGRAPH_DA.items()})


def places_alt(figs: Figures) -> str:
    return (f"Linjediagram over 24 måneder: antal pladser efter § 110, § 107 og § 108 ved månedens udgang; "
            f"i {fmt.period(figs.m)} {figs.text('shelter_places', '110')} pladser efter § 110.")


def occupancy_text(figs: Figures) -> str:
    """The § 110 occupancy now and a year ago, in a sentence (a chart of one line said no more)."""
    year_ago = period_label(figs.month - 12)
    return (f"Belægningen på § 110-herbergerne (overnatninger i forhold til pladser gange dage) var "
            f"{figs.pct('shelter_occupancy', decimals=1)} i {fmt.period(figs.m)} mod "
            f"{figs.pct('shelter_occupancy', period=year_ago, decimals=1)} i {fmt.period(year_ago)}.\n")


def conversion_table(figs: Figures, shelters: pd.DataFrame) -> pd.DataFrame:
    """Screened §110 shelters: places and places found convertible to §107."""
    names = _register_names(shelters)
    screened = [k for k in sorted(figs.cells("screened_places")["breakdown"])
                if k and figs.value("screened_places", k) > 0]
    rows = []
    for key in [*screened, ""]:
        name, ownership, _ = _shelter_label(key, names) if key else ("I alt", "", "")
        rows.append({"Herberg": name, "Ejerform": ownership,
                     "§ 110-pladser screenet": figs.text("screened_places", key),
                     "Vurderet egnede til § 107": figs.text("convertible_places", key)})
    return pd.DataFrame(rows)


def show(memo: Memo) -> None:
    from analysis.report import charts  # here, not at the top: the technical appendix reads this module's tables only

    figs = memo.figures
    memo.show_status(2)
    out.figure(charts.line_chart(places_chart(figs), "period", "value", hue="serie",
                                 title="Pladser efter paragraf", ylabel="Pladser"),
               "spor2_pladser", alt=places_alt(figs), caption="Pladser på herberger og botilbud efter paragraf")
    out.md(occupancy_text(figs))
    out.table(conversion_table(figs, memo.shelters), caption="Screening af § 110-pladser til omlægning til § 107")
