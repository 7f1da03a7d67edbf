"""Page 1 of the memo: title with the month, key figures with changes, one row per track."""
import pandas as pd

from analysis.params import load_params
from analysis.report import document
from analysis.report.memo import appendix, overview
from analysis.report.published import Figures
from tests.memo_tables import published

M = pd.Period("2023-02", "M")
P = load_params()


def test_title_names_the_month():
    assert document.title_block(M, overview.TITLE) == '---\ntitle: "Status på bolig- og hjemløseaftalen pr. februar 2023"\n---\n'
    assert "Kapacitetsprognose pr. oktober 2026" in document.title_block(pd.Period("2026-10", "M"), "Kapacitetsprognose")


def test_key_figures_show_changes_only_between_published_cells():
    table = published([
        ("persons_in_shelter", "2023-02", "", 456.0, ""),
        ("persons_in_shelter", "2023-01", "", 472.0, ""),
        ("persons_in_shelter", "2022-02", "", 450.0, ""),
        ("outflow", "2023-02", "to_housing", 35.0, ""),
        ("outflow", "2023-01", "to_housing", 3.0, "primary"),
        ("outflow", "2022-02", "to_housing", 35.0, ""),
    ])
    rows = overview.key_figures(Figures(table, M, 5)).set_index("Nøgletal")
    assert rows.loc["Borgere på herberg ved månedens udgang"].tolist() == ["456", "▼ 16", "▲ 6"]
    # January is suppressed: no arrow may reveal it
    assert rows.loc["Afgang fra herberg til bolig"].tolist() == ["35", "–", "uændret"]
    assert rows.loc["Tilgang til herberg (forløb startet i måneden)"].tolist() == ["–", "–", "–"]
    assert list(rows.columns) == ["februar 2023", "Ændring fra januar 2023", "Ændring fra februar 2022"]


def test_track_overview_one_row_per_track_with_live_figures_and_the_analysts_words():
    table = published([
        ("pilot_referred", "2023-02", "", 29.0, ""), ("pilot_moved_in", "2023-02", "", 14.0, ""),
        ("shelter_places", "2023-02", "107", 48.0, ""), ("forecast_places_107", "2024", "baseline", 127.0, ""),
        ("reimbursement_extra_cost", "2024", "baseline", 6_700_000.0, ""),
    ])
    status = {"spor": [
        {"nr": 7, "titel": "Økonomi", "status": "…", "status_kort": "I gang", "naeste_skridt": "Budget 2024."},
        {"nr": 5, "titel": "Pilotprojektet", "status": "Tekst. Mere tekst."},
    ]}
    rows = overview.track_overview(status, Figures(table, M, 5), P)
    assert rows["Spor"].tolist() == ["5. Pilotprojektet", "7. Økonomi"]
    pilot, economy = rows.iloc[0], rows.iloc[1]
    assert pilot["Det skete"].startswith("29 borgere indstillet og 14 flyttet ind")
    assert pilot["Status"] == overview.NOT_GIVEN and pilot["Næste skridt"] == overview.NOT_GIVEN
    assert economy["Det skete"].startswith("Behov for 127 pladser efter § 107 i 2024 mod 48 i dag")
    factor = P["price_index.by_year"][2024] / P["price_index.by_year"][P["day_rates.price_year"]]
    assert f"{6.7 * factor:.1f}".replace(".", ",") + " mio. kr. i budgetåret (2024-priser)" in economy["Det skete"]
    assert (economy["Status"], economy["Næste skridt"]) == ("I gang", "Budget 2024.")
    assert "" not in rows.columns  # no empty header cell


def test_track_overview_leaves_out_a_column_no_track_fills():
    """The February 2023 status file has no short status and no next steps: those columns go, the rest stay."""
    status = {"spor": [{"nr": 5, "titel": "Pilotprojektet", "status": "Tekst. Mere tekst."},
                       {"nr": 6, "titel": "Inddragelse", "status": "Andet.", "naeste_skridt": "Møde i marts."}]}
    rows = overview.track_overview(status, Figures(published([]), M, 5), P)
    assert list(rows.columns) == ["Spor", "Det skete", "Næste skridt"]
    assert rows["Næste skridt"].tolist() == [overview.NOT_GIVEN, "Møde i marts."]


def test_plain_definitions_explain_the_marks_with_the_threshold_in_force():
    text = appendix.plain_definitions(min_count=3)
    assert "»<3«" in text and "»·«" in text and text.startswith("::: {.definitions}")


def test_tracks_without_a_figure_quote_the_analysts_first_sentence_and_shares_are_whole_per_cent():
    table = published([("housing_retention_12m", "2023-02", "", 0.807, ""),
                       ("payment_sufficient_share", "2023-02", "after_12m", 0.672, "")])
    status = {"spor": [{"nr": 6, "titel": "Inddragelse og samarbejde", "status": "Dialogen fortsætter. Mere."},
                       {"nr": 4, "titel": "Sagsbehandling og ydelser - herunder BIF", "status": "x"}]}
    rows = overview.track_overview(status, Figures(table, M, 5), P).set_index("Spor")["Det skete"]
    assert rows["6. Inddragelse og samarbejde"] == "Dialogen fortsætter."
    assert rows["4. Sagsbehandling og ydelser"].startswith("81 % bor stadig i boligen efter 12 måneder; 67 % har")
