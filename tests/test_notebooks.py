"""Every notebook: parameters cell, no outputs, no logic beyond calls; the ingest notebooks on a fixture delivery."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from analysis.ingest import quality_notes, quality_tables, run_ingest
from tests.fixtures.raw import delivery

ROOT = Path(__file__).resolve().parents[1]
# Every pipeline notebook and report source: thin, parameterised, committed without outputs.
NOTEBOOKS = sorted(str(p.relative_to(ROOT)) for d in ("notebooks", "reports") for p in (ROOT / d).glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_parameters_cell_and_no_outputs(path):
    nb = nbformat.read(ROOT / path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = {line.split("=")[0].strip() for line in tagged[0].source.splitlines() if "=" in line}
    assert names >= {"month", "raw_dir", "processed_dir", "build_dir", "param_overrides"}
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert all(not line.lstrip().startswith(("for ", "if ", "def ", "while ")) for c in code for line in c.source.splitlines())


def test_report_front_matter():
    nb = nbformat.read(ROOT / "reports/data_quality.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "raw"
    assert 'title: "Datakvalitet"' in nb.cells[0].source and "lang: da" in nb.cells[0].source


def test_quality_tables_are_danish_and_formatted(tmp_path):
    raw = delivery(tmp_path / "raw", boliger="boliger_comma.csv")
    report = run_ingest(raw, tmp_path / "processed")
    tables = quality_tables(report)
    assert list(tables["rows"].columns)[:2] == ["Udtræk", "Format"]
    assert tables["rows"].set_index("Udtræk").loc["boliger", "Separator"] == "komma"
    assert "kommasepareret" in quality_notes(report)
