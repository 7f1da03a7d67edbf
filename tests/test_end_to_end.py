"""End to end: the monthly run on small synthetic data, as the scheduler runs it.

One run (module fixture) is shared by the checks: both reports exist, are
self-contained and Danish, every figure the memo prints comes from the
published indicator table, no CPR from the raw extracts appears in any file the
run wrote, and the memo renders in a real browser without network requests.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analysis.pipeline import RunConfig, Runner
from analysis.report.render import check_html
from analysis.synthetic import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

MONTH = "2023-02"
CPR_RE = re.compile(rb"\b(\d{6})-?(\d{4})\b")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    raw = base / "raw"
    generate(raw, seed=7, scale=0.15, start="2020-01", end="2023-03", extract_date="2023-04-03")
    cfg = RunConfig(
        month=MONTH, raw_dir=raw, processed_dir=base / "processed", build_root=base / "build",
        reports_dir=base / "reports", log_dir=base / "logs", jobs=2,
    )
    result = Runner(cfg).run()
    return base, result


def test_reports_published(run):
    base, result = run
    folder = base / "reports" / MONTH
    for name in ("status_memo.html", "status_memo.docx", "capacity_forecast.html", "data_quality.html",
                 "technical_appendix.html", "indicators.csv", "indicators.parquet"):
        assert (folder / name).is_file(), name
    assert result.published == folder
    for html in folder.glob("*.html"):
        assert check_html(html) == [], html.name
        text = html.read_text(encoding="utf-8")
        assert '<html lang="da"' in text or "lang=\"da\"" in text[:500]
        assert "februar 2023" in text


def test_memo_figures_come_from_the_indicator_table(run):
    base, _ = run
    folder = base / "reports" / MONTH
    table = pd.read_parquet(folder / "indicators.parquet")
    assert set(table.columns) >= {"indicator", "period", "breakdown", "value", "suppressed"}

    def value(ind: str, period: str, breakdown: str = "") -> float:
        row = table[(table.indicator == ind) & (table.period == period) & (table.breakdown == breakdown)]
        assert len(row) == 1, (ind, period, breakdown)
        return row.value.iloc[0]

    memo = (folder / "status_memo.html").read_text(encoding="utf-8")
    # Dwellings are never suppressed: the band count of the month before M is printed in spor 1's text.
    jan = value("dwellings_received", "2023-01", "rent_4500_5000")
    assert f"modtaget {int(jan)} boliger" in memo.replace("\xa0", " ")
    for ind in ("pilot_referred", "pilot_moved_in"):
        row = table[(table.indicator == ind) & (table.period == MONTH) & (table.breakdown == "")]
        assert len(row) == 1
    # The published table never carries an unsuppressed person count below the threshold.
    persons = table[table.indicator.isin(["persons_in_shelter", "episodes_started", "frequent_users"])]
    shown = persons[~persons.suppressed]
    assert not ((shown.value > 0) & (shown.value < 5)).any()


def _texts_of(path: Path) -> list[bytes]:
    """Every byte string a human or program could read out of a written file."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        return [frame.to_csv(index=False).encode()]
    if path.suffix in {".docx", ".xlsx"}:
        with zipfile.ZipFile(path) as zf:
            return [zf.read(n) for n in zf.namelist()]
    return [path.read_bytes()]


def test_no_cpr_leaves_ingestion(run):
    base, _ = run
    raw_cprs: set[bytes] = set()
    for f in (base / "raw").glob("*.csv"):
        raw_cprs |= {a + b for a, b in CPR_RE.findall(f.read_bytes())}
    for f in (base / "raw").glob("*.xlsx"):
        for blob in _texts_of(f):
            raw_cprs |= {a + b for a, b in CPR_RE.findall(blob)}
    assert len(raw_cprs) > 100  # the scan is only meaningful if the extracts hold CPRs
    written = [p for d in ("processed", "build", "reports", "logs") for p in (base / d).rglob("*") if p.is_file()]
    assert any(p.suffix == ".ipynb" for p in written) and any(p.suffix == ".log" for p in written)
    leaks = []
    for path in written:
        for blob in _texts_of(path):
            found = {a + b for a, b in CPR_RE.findall(blob)} & raw_cprs
            if found:
                leaks.append(path.relative_to(base))
    assert leaks == []


def test_memo_in_headless_chromium(run):
    from tests.browser import chromium_check

    base, _ = run
    result = chromium_check(base / "reports" / MONTH / "status_memo.html")
    assert result.requests == []
    for heading in ("Overblik", "Spor 1", "Spor 2", "Spor 3", "Spor 4", "Spor 5", "Spor 6", "Spor 7",
                    "Sådan læses tallene", "Kolofon"):
        assert heading in result.dom, heading
    assert "sourceCode" not in result.dom
    assert "<main>" in result.dom
    assert "<title>Status på bolig- og hjemløseaftalen pr. februar 2023</title>" in result.dom
    assert 'href="technical_appendix.html"' in result.dom  # the colophon links the appendix published beside it


def test_reports_speak_plain_danish(run):
    """No identifier, parameter key, file name, issue reference or known English word where a reader looks."""
    from analysis.report import plain_language as pl

    base, _ = run
    folder = base / "reports" / MONTH
    identifiers = pl.package_identifiers()
    texts = {"status_memo.html": pl.html_text(folder / "status_memo.html"),
             "capacity_forecast.html": pl.html_text(folder / "capacity_forecast.html"),
             "status_memo.docx": pl.docx_text(folder / "status_memo.docx")}
    assert all(len(t) > 5000 for t in texts.values())  # the scan read the documents, not an empty shell
    assert {name: pl.findings(text, identifiers) for name, text in texts.items()} == {name: [] for name in texts}
    # the appendix is for analysts and names the ids: the scan does see them there
    assert "persons_in_shelter" in pl.findings(pl.html_text(folder / "technical_appendix.html"), identifiers)


@pytest.mark.browser
def test_memo_prints_to_at_most_eight_pages(run):
    from tests.browser import printed_pages

    base, _ = run
    assert printed_pages(base / "reports" / MONTH / "status_memo.html") <= 8


@pytest.mark.browser
@pytest.mark.parametrize("report", ["status_memo.html", "capacity_forecast.html"])
def test_reports_pass_the_axe_accessibility_audit(run, report):
    """axe-core (WCAG 2.1 A/AA and best practice): nothing serious or critical, no contrast or empty-header finding."""
    from tests.browser import axe_violations

    base, _ = run
    violations = axe_violations(base / "reports" / MONTH / report)
    blocking = [v for v in violations if v["impact"] in ("serious", "critical")
                or v["id"] in ("color-contrast", "empty-table-header", "landmark-one-main")]
    assert blocking == [], blocking


def test_warm_rerun_reuses_every_step(run):
    base, first = run
    cfg = RunConfig(
        month=MONTH, raw_dir=base / "raw", processed_dir=base / "processed", build_root=base / "build",
        reports_dir=base / "reports", log_dir=base / "logs",
    )
    again = Runner(cfg).run()
    assert {s.status for s in again.steps} == {"reused"}
    manifest = json.loads((base / "reports" / MONTH / "manifest.json").read_text())
    assert set(manifest["steps"]) >= {"clean", "indicators", "status_memo"}
