"""The catalogue: complete, unique, covering the contract's ids; docs generated from it."""
import pytest

from analysis.indicators.catalogue import REQUIRED, CatalogueError, definitions_markdown, load_catalogue, write_docs

CONTRACT_IDS = {
    "dwellings_received", "subsidised_dwellings_allocated", "pilot_referred", "pilot_moved_in", "shelter_places",
    "persons_in_shelter", "episodes_started", "episodes_ended", "episodes_ended_12m", "episode_length_median_12m",
    "frequent_users", "support_active", "housing_retention_12m", "rows_read", "rows_clean", "rows_quarantined",
}


def test_catalogue_has_contract_ids_and_every_field():
    cat = load_catalogue()
    assert CONTRACT_IDS <= set(cat)
    for ind, entry in cat.items():
        assert all(f in entry for f in REQUIRED), ind


ENTRY = ("x:\n  label_da: a\n  definition: b\n  window: c\n  censoring: d\n  definition_da: b_da\n  window_da: c_da\n"
         "  censoring_da: d_da\n  kind: rows\n  unit: e\n  breakdowns: []\n")


def test_duplicate_id_across_files_is_an_error(tmp_path):
    entry = ENTRY
    (tmp_path / "a.yml").write_text(entry)
    (tmp_path / "b.yml").write_text(entry)
    with pytest.raises(CatalogueError, match="x: defined in both a.yml and b.yml"):
        load_catalogue(tmp_path)


def test_missing_field_and_bad_kind_are_errors(tmp_path):
    (tmp_path / "a.yml").write_text("x:\n  label_da: a\n  kind: persons\n")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(tmp_path)
    assert "missing definition, window, censoring, definition_da, window_da, censoring_da, unit, breakdowns" in str(err.value)
    assert "kind 'persons'" in str(err.value)


@pytest.mark.parametrize("field", ["definition_da", "window_da", "censoring_da"])
def test_missing_danish_text_is_an_error(tmp_path, field):
    (tmp_path / "area.yml").write_text("".join(line + "\n" for line in ENTRY.splitlines() if not line.startswith(f"  {field}:")))
    with pytest.raises(CatalogueError, match=rf"x \(area\.yml\): missing {field}$"):
        load_catalogue(tmp_path)
    (tmp_path / "area.yml").write_text(ENTRY.replace(f"  {field}: ", f"  {field}: ''  # "))
    with pytest.raises(CatalogueError, match=rf"x \(area\.yml\): empty or not text: {field}$"):
        load_catalogue(tmp_path)


def test_every_entry_has_danish_texts_that_differ_from_the_english():
    for ind, e in load_catalogue().items():
        for en, da in (("definition", "definition_da"), ("window", "window_da"), ("censoring", "censoring_da")):
            assert isinstance(e[da], str) and e[da].strip(), (ind, da)
        assert " ".join(e["definition_da"].split()) != " ".join(e["definition"].split()), ind


def test_docs_list_label_id_definition_window_censoring(tmp_path):
    cat = load_catalogue()
    text = write_docs(tmp_path / "indicators.md", cat).read_text(encoding="utf-8")
    assert "## Boliger modtaget til boligsocial anvisning\n" in text
    assert "- **Id:** `dwellings_received` (dwelling_count, boliger)" in text
    assert text.count("- **Window:**") == len(cat) == text.count("- **Censoring:**")
    assert "- **Definition (Danish):** Boliger med `modtaget` i perioden" in text


def _flat(text):
    return " ".join(str(text).split())


@pytest.mark.parametrize("ind", ["pilot_referred", "housing_retention_12m", "inflow"])
def test_danish_appendix_prints_the_danish_texts_only(ind):
    entry = load_catalogue()[ind]
    appendix = definitions_markdown({ind: entry}, heading_level=3)
    assert appendix.startswith(f"### {entry['label_da']} {{.unnumbered}}\n")
    for heading, key in (("Definition", "definition_da"), ("Vindue", "window_da"), ("Censurering", "censoring_da")):
        assert f"- **{heading}:** {_flat(entry[key])}\n" in appendix
    assert "- **Opdeling:** " in appendix
    for english in ("definition", "window", "censoring"):
        assert _flat(entry[english]) not in appendix, english
    for word in ("Window", "Censoring", "Breakdowns", " the ", " month", " of ", "Danish"):
        assert word not in appendix, word


def test_pilot_referred_appendix_text():
    appendix = definitions_markdown({"pilot_referred": load_catalogue()["pilot_referred"]}, heading_level=3)
    assert appendix.startswith("### Borgere indstillet til pilotprojektet (akkumuleret) {.unnumbered}")
    assert "- **Vindue:** `pilot.start_date` til udgangen af måneden\n" in appendix
    assert "- **Censurering:** ingen\n" in appendix
    assert "to the end of the month" not in appendix and "referral" not in appendix


def test_docs_file_is_generated_from_the_current_catalogue(tmp_path):
    from pathlib import Path

    committed = Path(__file__).resolve().parents[1] / "docs" / "indicators.md"
    fresh = write_docs(tmp_path / "indicators.md").read_text(encoding="utf-8")
    assert committed.read_text(encoding="utf-8") == fresh, "regenerate: python -m analysis.indicators.catalogue"
