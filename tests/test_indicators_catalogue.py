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


def test_duplicate_id_across_files_is_an_error(tmp_path):
    entry = "x:\n  label_da: a\n  definition: b\n  window: c\n  censoring: d\n  kind: rows\n  unit: e\n  breakdowns: []\n"
    (tmp_path / "a.yml").write_text(entry)
    (tmp_path / "b.yml").write_text(entry)
    with pytest.raises(CatalogueError, match="x: defined in both a.yml and b.yml"):
        load_catalogue(tmp_path)


def test_missing_field_and_bad_kind_are_errors(tmp_path):
    (tmp_path / "a.yml").write_text("x:\n  label_da: a\n  kind: persons\n")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(tmp_path)
    assert "missing definition, window, censoring, unit, breakdowns" in str(err.value)
    assert "kind 'persons'" in str(err.value)


def test_docs_list_label_id_definition_window_censoring(tmp_path):
    cat = load_catalogue()
    text = write_docs(tmp_path / "indicators.md", cat).read_text(encoding="utf-8")
    assert "## Boliger modtaget til boligsocial anvisning\n" in text
    assert "- **Id:** `dwellings_received` (dwelling_count, boliger)" in text
    assert text.count("- **Window:**") == len(cat) == text.count("- **Censoring:**")
    appendix = definitions_markdown({"pilot_referred": cat["pilot_referred"]}, heading_level=3)
    assert appendix.startswith("### Borgere indstillet til pilotprojektet (akkumuleret) {.unnumbered}")
    assert "- **Vindue:** pilot.start_date to the end of the month" in appendix


def test_docs_file_is_generated_from_the_current_catalogue(tmp_path):
    from pathlib import Path

    committed = Path(__file__).resolve().parents[1] / "docs" / "indicators.md"
    fresh = write_docs(tmp_path / "indicators.md").read_text(encoding="utf-8")
    assert committed.read_text(encoding="utf-8") == fresh, "regenerate: python -m analysis.indicators.catalogue"
