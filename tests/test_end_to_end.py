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

from analysis.pipeline.run import RunConfig, Runner
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


_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(?:\.([^@{}]+))?(?:@([^{}]+))?\}")
# what a filled placeholder can print: a suppression mark, a dash, a Danish number (maybe a percentage), a period
_PRINTED = r"(<\d+|·|–|-?\d[\d.]*(?:,\d+)?(?: %)?|[a-zæø]+ \d{4}|\d{4})"
_MONTHS_DA = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
              "november", "december"]
_RELATIVE = {"M": MONTH, "M-1": "2023-01", "Y": "2023", "Y-1": "2022"}  # for M = February 2023, by hand


def _visible_text(html: str) -> str:
    """What a reader sees: no scripts, styles or tags, entities decoded, whitespace collapsed."""
    import html as html_lib

    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    text = html_lib.unescape(re.sub(r"(?s)<[^>]+>", " ", html)).replace("\xa0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text)


def _danish(value: float, decimals: int) -> str:
    """A Danish number written out independently of analysis.report.fmt: '.' thousands, ',' decimals, half up."""
    from decimal import ROUND_HALF_UP, Decimal

    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{rounded:,f}".replace(",", "\0").replace(".", ",").replace("\0", ".")


def _expected_text(table: pd.DataFrame, units: dict, name: str, breakdown: str | None, period: str | None) -> str:
    """What a placeholder must print, from the published table alone."""
    period = _RELATIVE.get((period or "M").strip(), (period or "M").strip())
    if name == "periode":
        return period if len(period) == 4 else f"{_MONTHS_DA[int(period[5:]) - 1]} {period[:4]}"
    row = table[(table.indicator == name) & (table.breakdown == (breakdown or "")) & (table.period == period)]
    assert len(row) == 1, (name, breakdown, period)
    row = row.iloc[0]
    if row.suppressed:
        return "<5" if row.get("suppression", "primary") == "primary" else "·"
    if pd.isna(row.value):
        return "–"
    if units.get(name) == "andel":
        return _danish(row.value * 100, 0) + " %"
    return _danish(row.value, 0 if float(row.value).is_integer() else 1)


def _track_pattern(template: str) -> tuple[str, list[tuple[str, str | None, str | None]]]:
    """A regex for a status text as rendered, with one group per placeholder, and the placeholders in order.

    The literal text is matched word by word (Markdown and HTML change only what lies between words)."""
    pattern, placeholders, at = "", [], 0
    for m in [*_PLACEHOLDER.finditer(template), None]:
        words = re.findall(r"\w+", template[at: m.start() if m else len(template)])
        if words:
            pattern += r"\W*" + r"\W+".join(map(re.escape, words))
        if m is None:
            break
        pattern += r"\W*?" + _PRINTED
        placeholders.append(m.groups())
        at = m.end()
    return pattern, placeholders


def test_every_figure_in_the_status_texts_is_the_published_value(run):
    """Each placeholder of each track's text is found in the rendered memo, and what it printed is the
    published table's value for it, suppression marks included."""
    import yaml

    from analysis.indicators.catalogue import load_catalogue

    base, _ = run
    folder = base / "reports" / MONTH
    table = pd.read_parquet(folder / "indicators.parquet")
    table["breakdown"] = table["breakdown"].fillna("").astype(str)
    units = {k: v.get("unit") for k, v in load_catalogue().items()}
    memo = _visible_text((folder / "status_memo.html").read_text(encoding="utf-8"))
    status = yaml.safe_load((base / "raw" / "status" / f"{MONTH}.yml").read_text(encoding="utf-8"))
    checked, wrong = 0, []
    for track in status["spor"]:
        pattern, placeholders = _track_pattern(str(track["status"]))
        found = re.search(pattern, memo)
        assert found, f"spor {track['nr']}: its status text is not in the memo as written"
        for printed, (name, breakdown, period) in zip(found.groups(), placeholders):
            expected = _expected_text(table, units, name, breakdown, period)
            checked += 1
            if printed != expected:
                wrong.append(f"spor {track['nr']} {{{name}.{breakdown}@{period}}}: printed {printed!r}, table {expected!r}")
    assert wrong == []
    assert checked == 7  # the February texts: two periods, two dwelling counts, a period and the pilot's two counts


def _html_tables(html: str) -> list[dict]:
    """Every table of a rendered report: caption, header cells and body rows, as the reader sees the text."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tables: list[dict] = []
            self.cell: list[str] | None = None
            self.caption: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.tables.append({"caption": "", "rows": []})
            elif tag == "tr" and self.tables:
                self.tables[-1]["rows"].append([])
            elif tag in ("td", "th"):
                self.cell = []
            elif tag == "caption" or (tag == "figcaption" and self.tables):
                self.caption = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None and self.tables:
                self.tables[-1]["rows"][-1].append(" ".join("".join(self.cell).split()))
                self.cell = None
            elif tag in ("caption", "figcaption") and self.caption is not None:
                if self.tables and not self.tables[-1]["caption"]:
                    self.tables[-1]["caption"] = " ".join("".join(self.caption).split())
                self.caption = None

        def handle_data(self, data):
            for part in (self.cell, self.caption):
                if part is not None:
                    part.append(data.replace("\xa0", " ").replace("\u202f", " "))

    parser = Tables()
    parser.feed(html)
    return [{"caption": t["caption"], "header": t["rows"][0], "rows": t["rows"][1:]} for t in parser.tables if t["rows"]]


def _table_cells(tables: list[dict]) -> list[tuple[str, str, tuple[str, str, str]]]:
    """(table, printed text, (indicator, breakdown, period)) for each figure of the reports' tables of one cell each.

    The map is written by hand from what each table says in its caption, row labels and column headers."""
    from analysis.indicators.views import DISCHARGE_DA, RENT_BAND_DA
    from analysis.report.overview import KEY_FIGURES

    by_caption = lambda start: [t for t in tables if t["caption"].startswith(start)]  # noqa: E731
    cells = []
    for t in by_caption("Nøgletal for"):
        labels = {label: (ind, b) for ind, b, label in KEY_FIGURES}
        col = t["header"].index("februar 2023")
        cells += [("nøgletal", r[col], (*labels[r[0]], MONTH)) for r in t["rows"]]
    for t in by_caption("Boliger modtaget til boligsocial anvisning efter husleje"):
        labels = {label: band for band, label in RENT_BAND_DA.items()}
        for header, period in (("februar 2023", MONTH), ("januar 2023", "2023-01"), ("februar 2022", "2022-02")):
            col = t["header"].index(header)
            cells += [("boliger", r[col], ("dwellings_received", labels[r[0]], period)) for r in t["rows"]]
    for t in by_caption("Udskrivningsgrunde:"):
        labels = {label: c for c, label in DISCHARGE_DA.items()}
        for header, ind in (("Egne herberger, københavnere: februar 2023", "discharges_cph_own_shelters"),
                            ("Egne herberger, københavnere: seneste 12 mdr.", "discharges_cph_own_shelters_12m"),
                            ("Alle herberger, alle borgere: seneste 12 mdr.", "episodes_ended_12m")):
            col = t["header"].index(header)
            cells += [("udskrivninger", r[col], (ind, labels[r[0]], MONTH)) for r in t["rows"]]
    for t in by_caption("Rækker indlæst, godkendt og i karantæne"):
        for header, ind in (("Rækker indlæst", "rows_read"), ("Godkendt", "rows_clean"), ("I karantæne", "rows_quarantined")):
            col = t["header"].index(header)
            cells += [("datakvalitet", r[col], (ind, r[0], MONTH)) for r in t["rows"]]
    return cells


def test_every_figure_in_the_memos_tables_is_the_published_value(run):
    """The key-figure, dwellings and discharge tables of the memo and the data-quality table of the technical
    appendix, cell by cell, against the published table."""
    from analysis.indicators.catalogue import load_catalogue

    base, _ = run
    folder = base / "reports" / MONTH
    table = pd.read_parquet(folder / "indicators.parquet")
    table["breakdown"] = table["breakdown"].fillna("").astype(str)
    units = {k: v.get("unit") for k, v in load_catalogue().items()}
    cells = _table_cells([t for name in ("status_memo.html", "technical_appendix.html")  # data quality: appendix
                          for t in _html_tables((folder / name).read_text(encoding="utf-8"))])
    wrong = [f"{name} {key}: printed {printed!r}, table {_expected_text(table, units, *key)!r}"
             for name, printed, key in cells if printed != _expected_text(table, units, *key)]
    assert wrong == []
    assert {name for name, _, _ in cells} == {"nøgletal", "boliger", "udskrivninger", "datakvalitet"}
    assert len(cells) >= 6 + 3 * 4 + 3 * 13 + 3 * 7


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
