"""The how-to pages stay true: docs/contributing.md names files that exist and obligations the code keeps,
and every design decision the code cites has its entry in docs/decisions.md."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.indicators.catalogue import load_catalogue
from analysis.ingest.schemas import EXTRACTS
from analysis.synthetic import generate
from analysis.synthetic.quality import STYLES

ROOT = Path(__file__).resolve().parents[1]
CONTRIBUTING = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
DECISIONS = (ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")
# Where code and docs cite decisions: "design decision 7", "design decisions 3 and 4", "Design decision 3:".
CITATION = re.compile(r"\bdecisions? (\d+)(?: and (\d+))?", re.IGNORECASE)
CITING = ("src", "tests", "docs", "notebooks", "reports", "benchmarks", "README.md", "Makefile")


def _listed_paths() -> list[str]:
    """Every repository path the page names in backticks (``<name>`` stands for any name)."""
    quoted = re.findall(r"`([^`\s]+)`", CONTRIBUTING)
    return sorted({q for q in quoted if q.split("/")[0] in {"src", "tests", "docs", "notebooks", "reports"}})


def _glob(path: str) -> list[Path]:
    return list(ROOT.glob(re.sub(r"<[^>]+>|NN", "*", path)))


@pytest.mark.parametrize("path", _listed_paths())
def test_every_path_the_contributing_page_lists_exists(path):
    if path.startswith("reports/<month>/"):  # a run's output, absent until `make report`: its notebook must exist
        notebook = "reports/" + Path(path).stem + ".ipynb"
        assert (ROOT / notebook).exists(), f"docs/contributing.md lists {path}, but there is no {notebook}"
        return
    assert _glob(path), f"docs/contributing.md lists {path}, which matches no file"


def _named_parts() -> list[tuple[str, str]]:
    """(path, name) for each backticked file followed by backticked names in brackets: what in the file to edit."""
    pairs = []
    for path, inside in re.findall(r"`([^`\s]+\.(?:py|yml|ipynb))`\s+\(([^()]*)\)", CONTRIBUTING):
        pairs += [(path, name) for name in re.findall(r"`([A-Za-z_]\w*)`", inside)]
    return sorted(set(pairs))


@pytest.mark.parametrize(("path", "name"), _named_parts())
def test_every_function_the_page_names_in_a_file_is_there(path, name):
    files = _glob(path)
    assert any(re.search(rf"\b{name}\b", f.read_text(encoding="utf-8")) for f in files), \
        f"docs/contributing.md says to edit {name} in {path}, which has no {name}"


def test_the_page_has_the_sections_a_newcomer_looks_for():
    headings = re.findall(r"^## (.+)$", CONTRIBUTING, flags=re.M)
    assert {"Add an indicator", "Add a raw extract", "Add a parameter"} <= set(headings)


@pytest.fixture(scope="module")
def synthetic_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("synthetic_tiny")
    generate(out, scale=0.02, start="2025-01")
    return {p.stem for p in out.iterdir() if p.suffix in {".csv", ".xlsx"}}


@pytest.mark.parametrize("extract", sorted(EXTRACTS))
def test_every_extract_of_the_schema_has_what_make_report_needs(extract, synthetic_files):
    """The raw-extract obligations of docs/contributing.md: a generator, a STYLES entry, a base fixture and the
    data-quality breakdowns."""
    assert extract in synthetic_files, f"analysis.synthetic.generate writes no {extract} extract"
    assert extract in STYLES, f"analysis.synthetic.quality.STYLES has no entry for {extract}"
    assert list((ROOT / "tests" / "fixtures" / "raw" / "base").glob(f"{extract}.*")), \
        f"tests/fixtures/raw/base has no {extract} file"
    catalogue = load_catalogue()
    for rows in ("rows_read", "rows_clean", "rows_quarantined"):
        assert extract in catalogue[rows]["breakdowns"], \
            f"indicators/catalogue/quality.yml: {rows} has no breakdown {extract} (the run stops at the indicators)"


def _decision_numbers() -> set[int]:
    return {int(n) for n in re.findall(r"^## (\d+)\. ", DECISIONS, flags=re.M)}


def _citations() -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    files = [p for part in CITING for p in ((ROOT / part).rglob("*") if (ROOT / part).is_dir() else [ROOT / part])
             if p.is_file() and p.suffix in {".py", ".md", ".yml", ".ipynb", ""} and p.name != "decisions.md"]
    for path in files:
        for match in CITATION.finditer(path.read_text(encoding="utf-8", errors="replace")):
            for number in filter(None, match.groups()):
                found.setdefault(int(number), []).append(str(path.relative_to(ROOT)))
    return found


def test_every_cited_decision_has_an_entry():
    cited = _citations()
    assert {2, 5, 6, 7, 9} <= set(cited), "the citation pattern no longer finds the code's citations"
    missing = {n: where for n, where in cited.items() if n not in _decision_numbers()}
    assert not missing, f"cited in the code but not in docs/decisions.md: {missing}"


def test_every_decision_says_what_why_and_what_follows():
    entries = re.split(r"^## ", DECISIONS, flags=re.M)[1:]
    assert [int(e.split(".")[0]) for e in entries] == list(range(1, len(entries) + 1))
    for entry in entries:
        assert all(f"**{part}.**" in entry for part in ("Decision", "Reason", "Consequences")), entry.splitlines()[0]
