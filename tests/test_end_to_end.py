"""End to end: the monthly run on small synthetic data, as the scheduler runs it.

One run (module fixture) is shared by the checks: both reports exist, are
self-contained and Danish, every figure the memo prints (text, tables, alt texts)
comes from the published indicator table or a parameter, no CPR from the raw extracts appears in any file the
run wrote, and the memo renders in a real browser without network requests.
"""
from __future__ import annotations

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
    """A Danish number written out independently of analysis.base.fmt: '.' thousands, ',' decimals, half up."""
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
    from analysis.report.memo.overview import KEY_FIGURES
    from analysis.report.memo.spor1 import RENT_BAND_DA
    from analysis.report.memo.spor5 import DISCHARGE_DA

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
def test_memo_prints_to_at_most_eight_pages_with_the_overview_alone_on_page_one(run):
    from tests.browser import printed_pages

    base, _ = run
    pages = printed_pages(base / "reports" / MONTH / "status_memo.html")
    assert len(pages) <= 8
    assert "Overblik" in pages[0] and "Systemoverblik" not in pages[0], "page 1 must hold the overview and only that"
    assert "Systemoverblik" in pages[1]  # with its charts (the PDF's text order puts floated captions first)


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


# ----- every number the memo prints, in its text, tables and alt texts (issue 18) ------------------------------
# The tests above compare the placeholders of the status texts and four tables cell by cell. This one reads the whole
# memo: each sentence and table that prints figures is written out here as it must read from the published table
# (or a parameter), and after they are taken out no number may remain except those listed in _EXEMPT (dates, legal
# paragraphs, the memo's fixed horizons and band labels) and the analysts' own words (the status file). The colophon
# (run time, fingerprint, versions) is run metadata, not a figure, and is left out.
_MONTH_M1, _MONTH_M12, _YEAR_1 = "2023-01", "2022-02", "2022"  # M − 1, M − 12 and Y − 1 for M = February 2023, by hand
_NUMBER = re.compile(r"<\d+|-?\d+(?:[.,]\d+)*")
_MONTH_WORDS = "|".join(_MONTHS_DA)
_EXEMPT = [  # (pattern, why a number in it is not a figure of the table)
    (rf"\b\d{{1,2}}\. (?:{_MONTH_WORDS}) \d{{4}}\b", "a date"),
    (rf"\b(?:{_MONTH_WORDS}) \d{{4}}\b", "a month"),
    (r"\b(?:19|20)\d\d\b", "a year"),
    (r"§§? ?\d+(?: ?[/,] ?\d+)*", "a legal paragraph (Serviceloven)"),
    (r"\bSpor [1-7]\b|^[1-7]\. ", "a track number"),
    (r"\b(?:Under 4\.500|4\.500 ?[–-] ?5\.000|Over 5\.000) kr\.", "a rent-band label (views.RENT_BAND_DA)"),
    (r"\b(?:6|12|24) (?:måneder|mdr\.)", "a fixed horizon or chart window (6, 12, 24 months)"),
    (r"\b(?:80|95) %-(?:interval|bånd|konfidensbånd)", "the level of an interval"),
    (r"færre end 30 lejemål", "where a survival curve stops (spor4.CURVE_MIN_AT_RISK)"),
]


_COUNT_WORDS = {2: "to", 3: "tre", 4: "fire", 5: "fem", 6: "seks", 7: "syv", 8: "otte"}  # a count in running text


def _da_date(text: str) -> str:
    day = pd.Timestamp(text)
    return f"{day.day}. {_MONTHS_DA[day.month - 1]} {day.year}"


def _da_period(period: str) -> str:
    return f"{_MONTHS_DA[int(period[5:]) - 1]} {period[:4]}"


class _Published:
    """The published table read the way the memo must print it (independently of analysis.report)."""

    def __init__(self, table: pd.DataFrame):
        self.table = table

    def row(self, ind: str, breakdown: str = "", period: str = MONTH) -> pd.Series | None:
        t = self.table
        row = t[(t.indicator == ind) & (t.breakdown == breakdown) & (t.period == period)]
        assert len(row) <= 1, (ind, breakdown, period)
        return None if row.empty else row.iloc[0]

    def value(self, ind: str, breakdown: str = "", period: str = MONTH) -> float | None:
        row = self.row(ind, breakdown, period)
        return None if row is None or row.suppressed or pd.isna(row.value) else float(row.value)

    def _mark(self, ind, breakdown, period) -> str | None:
        """The memo's one vocabulary: <5 for a small count, · for a cell hidden to protect another, – for none."""
        row = self.row(ind, breakdown, period)
        if row is not None and row.suppressed:
            return "<5" if row.get("suppression", "primary") == "primary" else "·"
        if row is None or pd.isna(row.value):
            return "–"
        return None

    def n(self, ind: str, breakdown: str = "", period: str = MONTH, decimals: int = 0) -> str:
        return self._mark(ind, breakdown, period) or _danish(self.value(ind, breakdown, period), decimals)

    def pct(self, ind: str, breakdown: str = "", period: str = MONTH, decimals: int = 0) -> str:
        mark = self._mark(ind, breakdown, period)
        return mark or _danish(self.value(ind, breakdown, period) * 100, decimals) + " %"

    def kr(self, ind: str, breakdown: str = "", period: str = MONTH) -> str:
        mark = self._mark(ind, breakdown, period)
        return mark or _danish(self.value(ind, breakdown, period), 0) + " kr."

    def change(self, ind: str, breakdown: str, now: str, before: str) -> str:
        a, b = self.value(ind, breakdown, now), self.value(ind, breakdown, before)
        if a is None or b is None:
            return "–"
        diff = round(a - b)
        return "uændret" if diff == 0 else f"{'▲' if diff > 0 else '▼'} {_danish(abs(diff), 0)}"

    def with_band(self, ind: str, scenario: str, year: str) -> str:
        return (f"{self.n(ind, scenario, year)} ({self.n(ind, f'{scenario}_lo80', year)}–"
                f"{self.n(ind, f'{scenario}_hi80', year)})")


def _pct(share: float, decimals: int = 0) -> str:
    return _danish(share * 100, decimals) + " %"


def _verdict(local: float, band: tuple[float, float] | None, evaluation: float) -> str:
    if band is not None and band[0] <= evaluation <= band[1]:
        return "på niveau med"
    return "højere end" if local > evaluation else "lavere end"


def _wilson(share: float, n: float, z: float = 1.96) -> tuple[float, float]:
    centre, spread = share + z * z / (2 * n), z * (share * (1 - share) / n + z * z / (4 * n * n)) ** 0.5
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def _sentences(p: _Published, params) -> list[tuple[str, str, list[str]]]:
    """(where, template, figures): each sentence that prints figures, ``{}`` where a figure (or a verdict that
    depends on one) is printed, and what it must print."""
    from analysis.report.budget import price_factor

    min_count = int(params["disclosure.min_count"])
    norm, places = float(params["payment.disposable_norm"]), float(params["targets.pilot_places"])
    evaluations = params["evaluations.housed_share"]
    next_year, horizon = str(int(MONTH[:4]) + 1), str(params["forecast.horizon_end"])[:4]
    band = "rent_4500_5000"
    out = [
        ("overblik", "Tal under {} vises som »{}«", [str(min_count), f"<{min_count}"]),
        ("sådan læses", "Et tal under {} vises som »{}«", [str(min_count), f"<{min_count}"]),
        ("spor 1", "Tilskuddet sænker huslejen med ca. {} om måneden; efter tilskuddet må huslejen højst være {} om "
                   "måneden.", [_danish(params["permanent_subsidy.monthly_reduction"], 0) + " kr.",
                                _danish(params["permanent_subsidy.rent_ceiling"], 0) + " kr."]),
        ("spor 2", f"var {{}} i {_da_period(MONTH)} mod {{}} i {_da_period(_MONTH_M12)}.",
         [p.pct("shelter_occupancy", decimals=1), p.pct("shelter_occupancy", period=_MONTH_M12, decimals=1)]),
        ("spor 3", "Af de {} aktive bostøtteforløb ved månedens udgang leveres {} af kommunale, {} af selvejende og {} "
                   "af private leverandører.", [p.n("support_active_by_provider", b) for b in
                                                ("", "kommunal", "selvejende", "privat")]),
        ("spor 4", "Af de lejemål, som borgere fra hjemløshed har fået, er {} fulgt i analysen; {} af borgerne bor "
                   "stadig i boligen efter 12 måneder.",
         [p.n("housing_retention_tenancies"), p.pct("housing_retention_12m")]),
        ("spor 4", "Inden for 12 måneder efter indflytning er {} vendt tilbage til et § 110-herberg (CTI: {}).",
         [p.pct("shelter_return_12m"), p.pct("shelter_return_12m", "CTI")]),
        ("spor 4", "Ved indflytning havde {} mindst normen på {} om måneden (median {}); efter 6 måneder {} og efter "
                   "12 måneder {} (median {}). {} har skiftet forsørgelsesgrundlag det første år. Ved udgangen af "
                   "måneden var {} af de nuværende lejere i huslejerestance.",
         [p.pct("payment_sufficient_share", "at_move_in"), _danish(norm, 0) + " kr.",
          p.kr("payment_disposable_median", "at_move_in"), p.pct("payment_sufficient_share", "after_6m"),
          p.pct("payment_sufficient_share", "after_12m"), p.kr("payment_disposable_median", "after_12m"),
          p.pct("income_source_changed_share"), p.pct("arrears_share")]),
        ("spor 5", "Pilotprojektet har {} udslusningsboliger ad gangen. Flere borgere end {} kan derfor være indstillet "
                   "over tid, når nogle flytter videre; {} er indstillet i alt, {} er flyttet ind.",
         [_danish(places, 0), _danish(places, 0), p.n("pilot_referred"), p.n("pilot_moved_in")]),
        ("spor 5", "»Ukendt« er udskrivninger, hvor herberget ikke har registreret en grund ({} af alle afsluttede "
                   "forløb de seneste 12 måneder).",
         [_pct(p.value("episodes_ended_12m", "ukendt") / p.value("episodes_ended_12m"))]),
        ("spor 5", "Et afsluttet forløb varede i median {} døgn.", [p.n("episode_length_median_12m")]),
        ("spor 5", f"{{}} borgere har haft mindst tre herbergsforløb det seneste år ({{}} for et år siden). I "
                   f"{_da_period(MONTH)} stod de for {{}} af {{}} indskrivninger og {{}} af {{}} udskrivninger.",
         [p.n("frequent_users"), p.n("frequent_users", period=_MONTH_M12), p.n("frequent_user_admissions"),
          p.n("inflow"), p.n("frequent_user_discharges"), p.n("outflow")]),
    ]
    # Spor 4: each evaluated method against the Danish evaluations, the log-rank test, the CTI courses
    for method in ("CTI", "ICM", "ACT"):
        local, evaluation = p.value("housing_retention_12m", method), float(evaluations[method])
        lo, hi = p.value("housing_retention_12m_lower", method), p.value("housing_retention_12m_upper", method)
        if local is not None:
            out.append(("spor 4", f"{method}: {{}}, {{}} de danske evalueringer ({{}}).",
                        [_pct(local), _verdict(local, (lo, hi) if lo is not None and hi is not None else None, evaluation),
                         _pct(evaluation, 1)]))
    p_value = p.value("housing_retention_logrank_p", "method")
    if p_value is not None:
        out.append(("spor 4", "hvis metoderne var lige gode, er {}).",
                    ["under 1 promille" if p_value < 0.001 else _pct(p_value, 1)]))
    cti_evaluation = float(evaluations["CTI"])
    share, base = p.value("cti_housed_at_end_share"), p.value("cti_housed_at_end_base")
    compared = (f"evalueringerne fandt {_pct(cti_evaluation, 1)}" if share is None or not base else
                f"{_verdict(share, _wilson(share, base), cti_evaluation)} evalueringernes {_pct(cti_evaluation, 1)}")
    out.append(("spor 4", "Af {} CTI-forløb, der kunne nå at løbe de {} måneder, blev {} gennemført. Ved forløbets "
                          "afslutning boede {} i egen bolig ({}), og 12 måneder senere {}.",
                [p.n("cti_courses"), str(params["evaluations.cti_course_months"]),
                 p.pct("cti_course_completed_share"), p.pct("cti_housed_at_end_share"), compared,
                 p.pct("cti_housed_12m_after_share")]))
    if p.value("subsidy_tenants") == 0:
        out.append(("spor 4", "Ordningen med midlertidigt statsligt huslejetilskud kan bruges fra "
                              f"{_da_date(params['state_subsidy.usable_from'])};", []))
    # Spor 7: the needs against today's places, and the extra cost at the budget year's prices
    for paragraph, year in (("110", horizon), ("107", next_year)):
        gap = p.value(f"forecast_places_{paragraph}_gap", "baseline", year)
        gap_words = ": det samme som i dag" if round(gap) == 0 else \
            f": {_danish(abs(gap), 0)} {'flere' if gap > 0 else 'færre'} end i dag"
        out.append(("spor 7", f"Behov for § {paragraph}-pladser i {year}: {{}} (80 %-interval {{}}–{{}}) mod {{}} "
                              f"pladser i dag{{}}.",
                    [p.n(f"forecast_places_{paragraph}", "baseline", year),
                     p.n(f"forecast_places_{paragraph}", "baseline_lo80", year),
                     p.n(f"forecast_places_{paragraph}", "baseline_hi80", year),
                     p.n("shelter_places", paragraph), gap_words]))
    out.append(("spor 7", "I reformscenariet: {} pladser.", [p.n("forecast_places_110", "reform", horizon)]))
    factor = price_factor(params, int(next_year))  # the memo's costs are at the budget year's prices (a parameter)
    t = p.table
    costs = t[(t.indicator == "reimbursement_extra_cost") & (t.period == next_year) & (t.breakdown != "history")
              & t.value.notna()].value
    cost = lambda v: _danish(v * factor / 1e6, 1)  # noqa: E731
    out.append(("spor 7", f"Meromkostning ved de nye refusionsregler i budgetåret {next_year}: {{}} mio. kr. i "
                          f"basisscenariet; i de {{}} scenarier fra {{}} til {{}} mio. kr. (faste {next_year}-priser).",
                [cost(p.value("reimbursement_extra_cost", "baseline", next_year)), _COUNT_WORDS[len(costs)], cost(costs.min()),
                 cost(costs.max())]))
    # the charts' alt texts
    first = str(pd.Period(MONTH, "M") - 23)
    out += [
        ("alt", f"fra {_da_period(first)} til {_da_period(MONTH)}: antal borgere på herberg ved månedens udgang (fra {{}} "
                "til {})", [p.n("persons_in_shelter", period=first), p.n("persons_in_shelter")]),
        ("alt", f"i {_da_period(MONTH)} {{}} i klassen 4.500–5.000 kr.", [p.n("dwellings_received", band)]),
        ("alt", f"i {_da_period(MONTH)} {{}} pladser efter § 110.", [p.n("shelter_places", "110")]),
        ("alt", f"fra {_da_date(params['pilot.start_date'])} til {_da_period(MONTH)}; ved udgangen af {_da_period(MONTH)} "
                "{} indstillet og {} flyttet ind; pilotprojektet har {} pladser ad gangen.",
         [p.n("pilot_referred"), p.n("pilot_moved_in"), _danish(places, 0)]),
    ]
    return out


def _track_sentences(p: _Published, params) -> dict[int, str]:
    """The overview's "Det skete" per track, as it must read (track 6 quotes the analysts)."""
    from analysis.report.budget import price_factor

    month, next_year = _da_period(MONTH), str(int(MONTH[:4]) + 1)
    cost = p.value("reimbursement_extra_cost", "baseline", next_year) * price_factor(params, int(next_year)) / 1e6
    return {
        1: (f"{p.n('dwellings_received', 'rent_4500_5000')} boliger til 4.500–5.000 kr. modtaget i {month} "
            f"({p.n('dwellings_received_ytd', 'rent_4500_5000')} i år); {p.n('subsidised_dwellings_allocated')} af "
            f"{_danish(params['targets.subsidised_dwellings'], 0)} boliger med statsligt tilskud er taget i brug."),
        2: f"{p.n('shelter_places', '110')} pladser efter § 110 og {p.n('shelter_places', '107')} efter § 107 ved udgangen af {month}.",
        3: f"{p.n('support_active')} borgere har et aktivt bostøtteforløb, heraf {p.n('support_active', 'CTI')} CTI.",
        4: (f"{p.pct('housing_retention_12m')} bor stadig i boligen efter 12 måneder; "
            f"{p.pct('payment_sufficient_share', 'after_12m')} har efter 12 måneder mindst normens rådighedsbeløb."),
        5: (f"{p.n('pilot_referred')} borgere indstillet og {p.n('pilot_moved_in')} flyttet ind (pladser i "
            f"pilotprojektet: {params['targets.pilot_places']})."),
        7: (f"Behov for {p.n('forecast_places_107', 'baseline', next_year)} pladser efter § 107 i {next_year} mod "
            f"{p.n('shelter_places', '107')} i dag (basisscenariet); meromkostning ved de nye refusionsregler "
            f"{_danish(cost, 1)} mio. kr. i budgetåret ({next_year}-priser)."),
    }


def _cell_expected(p: _Published, params, status: dict, names: dict[str, str], caption: str, header: str,
                   label: str) -> str | None:
    """What a memo table's cell must print, from its caption, column header and row label; None: not mapped."""
    from analysis.report.memo.spor1 import RENT_BAND_DA
    from analysis.report.memo.spor3 import METHOD_DA
    from analysis.report.memo.spor5 import DISCHARGE_DA
    from analysis.report.memo.overview import KEY_FIGURES
    from analysis.report.memo.spor4 import METHOD_LABELS

    month, before, year_ago = _da_period(MONTH), _da_period(_MONTH_M1), _da_period(_MONTH_M12)
    if caption.startswith("Nøgletal for"):
        ind, b = {lab: (i, b) for i, b, lab in KEY_FIGURES}[label]
        return {month: p.n(ind, b), f"Ændring fra {before}": p.change(ind, b, MONTH, _MONTH_M1),
                f"Ændring fra {year_ago}": p.change(ind, b, MONTH, _MONTH_M12)}.get(header)
    if caption.startswith("De syv spor"):
        track = next(t for t in status["spor"] if int(t["nr"]) == int(label.split(".")[0]))
        said = lambda key: " ".join(str(track.get(key) or "").split())  # noqa: E731
        happened = _track_sentences(p, params).get(int(track["nr"])) or said("status").split(". ")[0] + "."
        return {"Status": said("status_kort"), "Det skete": happened, "Næste skridt": said("naeste_skridt")}.get(header)
    if caption.startswith("Boliger modtaget til boligsocial anvisning efter husleje"):
        b = {lab: band for band, lab in RENT_BAND_DA.items()}[label]
        return {month: p.n("dwellings_received", b), before: p.n("dwellings_received", b, _MONTH_M1),
                year_ago: p.n("dwellings_received", b, _MONTH_M12),
                f"År til dato {MONTH[:4]}": p.n("dwellings_received_ytd", b),
                f"Samme periode {_YEAR_1}": p.n("dwellings_received_ytd", b, _MONTH_M12),
                "Ændring": p.change("dwellings_received_ytd", b, MONTH, _MONTH_M12)}.get(header)
    if caption.startswith("Indflytninger i boliger med midlertidigt statsligt huslejetilskud"):
        done, target = p.value("subsidised_dwellings_allocated"), float(params["targets.subsidised_dwellings"])
        return {"Indflytninger i alt": p.n("subsidised_dwellings_allocated"), "Mål (tilsagn)": _danish(target, 0),
                "Andel af målet": _pct(done / target), "Endnu ikke anvendt": _danish(target - done, 0)}.get(header)
    if caption.startswith("Screening af § 110-pladser"):
        key = "" if label == "I alt" else f"110:{names[label]}"
        return {"§ 110-pladser screenet": p.n("screened_places", key),
                "Vurderet egnede til § 107": p.n("convertible_places", key)}.get(header)
    if caption.startswith("Bostøtteforløb efter metode"):
        b = {lab: m for m, lab in METHOD_DA.items()}[label]
        return {"Aktive ultimo": p.n("support_active", b), "Startet i måneden": p.n("support_started", b),
                "Afsluttet i måneden": p.n("support_ended", b)}.get(header)
    if caption.startswith("Andel der stadig bor i boligen"):
        m = {lab: m for m, lab in METHOD_LABELS.items()}[label]
        lo, hi = p.value("housing_retention_12m_lower", m), p.value("housing_retention_12m_upper", m)
        twelve = p.pct("housing_retention_12m", m)
        if p.value("housing_retention_12m", m) is not None and lo is not None and hi is not None:
            twelve += f" ({_pct(lo)}–{_pct(hi)})"
        evaluations = params["evaluations.housed_share"]
        return {"Lejemål": p.n("housing_retention_tenancies", m),
                "6 mdr.": p.pct("housing_retention_6m", m), "12 mdr. (95 %-interval)": twelve,
                "24 mdr.": p.pct("housing_retention_24m", m),
                "Fulgt 12 mdr.": p.n("housing_retention_at_risk_12m", m),
                "Evaluering": _pct(float(evaluations[m]), 1) if m in evaluations else "–"}.get(header)
    if caption.startswith("Udskrivningsgrunde:"):
        c = {lab: c for c, lab in DISCHARGE_DA.items()}[label]
        return {f"Egne herberger, københavnere: {month}": p.n("discharges_cph_own_shelters", c),
                "Egne herberger, københavnere: seneste 12 mdr.": p.n("discharges_cph_own_shelters_12m", c),
                "Alle herberger, alle borgere: seneste 12 mdr.": p.n("episodes_ended_12m", c)}.get(header)
    if caption.startswith("Basisscenariet: behov"):
        if header == "Behov":  # the row label
            return None
        year = header.removeprefix("Behov ")
        if label.startswith("Nye bostøtteforløb"):
            started = [p.value("support_started", "", f"{_YEAR_1}-{k:02d}") for k in range(1, 13)]
            t = p.table
            starts = t[(t.indicator == "forecast_support_starts") & (t.period == year)
                       & t.breakdown.str.fullmatch(r"baseline_[A-Za-z0-9]+") & ~t.breakdown.str.endswith("80")]
            return (_danish(starts.value.sum(), 0) if header != "I dag" else
                    f"{_danish(sum(started), 0)} startet i {_YEAR_1}" if None not in started else "–")
        if label.startswith("Boliger til borgere fra herberg"):
            return (p.with_band("forecast_dwellings_needed", "baseline", year) if header != "I dag" else
                    f"{p.n('dwellings_received', '', _YEAR_1)} modtaget i {_YEAR_1}, heraf "
                    f"{p.n('dwellings_received', 'rent_4500_5000', _YEAR_1)} til 4.500–5.000 kr.")
        paragraph = "110" if label.startswith("§ 110") else "107"
        return (p.n("shelter_places", paragraph) if header == "I dag" else
                p.with_band(f"forecast_places_{paragraph}", "baseline", year))
    return None


def _loose(template: str) -> re.Pattern:
    """A template as a regex: words and marks in order, any spacing (tags become spaces), ``{}`` a printed figure."""
    literal = lambda text: r"\s*".join(map(re.escape, re.findall(r"\w+|[^\w\s]", text)))  # noqa: E731
    # a figure stays within its sentence (a full stop only inside a number or after "kr") and its alt text ("|");
    # one that opens the template is a single word, maybe with its per cent sign
    slot, first = r"\s*((?:[^.|]|\.(?=\S)|(?<=kr)\.)+?)\s*", r"(\S+(?: %)?)\s*"
    parts = template.split("{}")
    return re.compile((first if parts[0] == "" else literal(parts[0]) + slot)
                      + slot.join(literal(part) for part in parts[1:]))


def _accuracy_wrong(p: _Published, printed: list[str]) -> list[str]:
    """The backtest sentence of Spor 7, figure by figure in the order it prints them: the model's origins, its mean
    error 12 months ahead (whole persons), the horizon, the best simple method's error, and the difference the
    reader can check (absent on a tie). Read by position only, so the sentence's wording may change."""
    mae = {b: round(v) for b, v in p.table[(p.table.indicator == "backtest_mae_12m") & (p.table.period == MONTH)]
           [["breakdown", "value"]].itertuples(index=False)}
    if len(printed) not in (4, 5):
        return [f"spor 7, backtest: {len(printed)} figures printed ({printed}), not 4 or 5"]
    expected = [p.n("backtest_origins_12m", "model"), _danish(mae["model"], 0), "12"]
    wrong = [f"spor 7, backtest: figure {i + 1} printed {a!r}, the published table says {b!r}"
             for i, (a, b) in enumerate(zip(printed, expected)) if a != b]
    simple = {_danish(v, 0) for k, v in mae.items() if k != "model"}
    if printed[3] not in simple:
        wrong.append(f"spor 7, backtest: the best simple method's error {printed[3]!r} is none of {sorted(simple)}")
    elif len(printed) == 5 and printed[4] != _danish(abs(int(printed[3].replace(".", "")) - mae["model"]), 0):
        wrong.append(f"spor 7, backtest: the difference {printed[4]!r} is not {printed[3]} − {mae['model']}")
    return wrong


def _exempt(text: str) -> str:
    for pattern, _ in _EXEMPT:
        text = re.sub(pattern, lambda m: " " * len(m.group()), text, flags=re.M)
    return text


def _unmapped(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """Numbers left in ``text`` outside ``spans`` and the exempt patterns, each with its context."""
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    rest = _exempt("".join(chars))
    return [f"{m.group()!r} in …{text[max(0, m.start() - 60): m.end() + 40]}…" for m in _NUMBER.finditer(rest)]


def memo_number_check(folder: Path, status: dict, names: dict[str, str]) -> tuple[list[str], list[str], int]:
    """(wrong, unmapped, checked) for the rendered memo in ``folder``: figures that differ from what the published
    table says, numbers that map to nothing, and how many figures were compared."""
    import html as html_lib

    from analysis.indicators.catalogue import load_catalogue
    from analysis.params import load_params

    params = load_params()
    table = pd.read_parquet(folder / "indicators.parquet")
    table["breakdown"] = table["breakdown"].fillna("").astype(str)
    p, units = _Published(table), {k: v.get("unit") for k, v in load_catalogue().items()}
    html = (folder / "status_memo.html").read_text(encoding="utf-8")
    body = re.sub(r"(?is)<table\b.*?</table>", " ", html)
    colophon = re.search(r'<(?:h\d|section)[^>]*\bid="kolofon"', body)  # Quarto puts the id on the section
    assert colophon, "the memo has no colophon (id kolofon): the check would read run metadata as figures"
    body = body[: colophon.start()]  # run metadata, not figures
    text = _visible_text(body)
    alts = [" ".join(html_lib.unescape(a).split()) for a in re.findall(r'\s(?:alt|aria-label)="([^"]*)"', html)]
    wrong, unmapped, spans, checked = [], [], [], 0
    alt_text = " | ".join(alts)
    alt_spans: list[tuple[int, int]] = []

    # the analysts' own words (status file): their placeholders are figures, the rest is theirs
    for track in status["spor"]:
        for part in (str(track["status"]), "; ".join(track.get("delleverancer") or [])):
            if not part:
                continue
            pattern, placeholders = _track_pattern(part)
            found = re.search(pattern, text)
            if found is None:
                wrong.append(f"spor {track['nr']}: the analysts' text is not in the memo as written: {part[:60]}…")
                continue
            spans.append(found.span())
            for printed, (name, breakdown, period) in zip(found.groups(), placeholders):
                checked += 1
                if printed != _expected_text(table, units, name, breakdown, period):
                    wrong.append(f"spor {track['nr']} {{{name}}}: printed {printed!r}")
    # the sentences that print figures
    for where, template, figures in _sentences(p, params):
        target, target_spans = (alt_text, alt_spans) if where == "alt" else (text, spans)
        found = list(_loose(template).finditer(target))
        if not found:
            wrong.append(f"{where}: no sentence reads {template!r}")
        for m in found:
            target_spans.append(m.span())
            for printed, expected in zip(m.groups(), figures):
                checked += 1
                if " ".join(printed.split()) != expected:
                    wrong.append(f"{where}: {template!r} printed {printed!r}, the published table says {expected!r}")
    from analysis.report.memo.spor4 import METHOD_LABELS

    for km in re.finditer(r"Efter 12 måneder: ([^.|]*)\.", alt_text):  # the survival chart: one share per curve
        alt_spans.append(km.span())
        for label, method in sorted(((lab, m) for m, lab in METHOD_LABELS.items()), key=lambda x: -len(x[0])):
            for m in re.finditer(rf"(?:^|, ){re.escape(label)} ([^,]+)", km.group(1)):
                checked += 1
                if m.group(1) != p.pct("housing_retention_12m", method):
                    wrong.append(f"alt: {label} after 12 months printed {m.group(1)!r}")
    accuracy = re.search(r"Prøvet bagud på .*?\. Altså [^.]*\.", text)
    if accuracy:
        spans.append(accuracy.span())
        printed = _NUMBER.findall(accuracy.group())
        checked += len(printed)
        wrong += _accuracy_wrong(p, printed)
    unmapped += _unmapped(text, spans) + _unmapped(alt_text, alt_spans)
    # every table of the memo: each cell of a data row, by caption, column header and row label
    for t in _html_tables(html):
        unmapped += _unmapped(t["caption"], []) + _unmapped(" | ".join(t["header"]), [])
        for row in t["rows"]:
            for col, cell in enumerate(row):
                if not _NUMBER.search(cell) and col:
                    continue
                expected = _cell_expected(p, params, status, names, t["caption"], t["header"][col], row[0])
                if expected is None:
                    unmapped += [f"{u} (table {t['caption'][:40]!r}, column {t['header'][col]!r})"
                                 for u in _unmapped(cell, [])]
                    continue
                checked += 1
                if cell != expected:
                    wrong.append(f"table {t['caption'][:40]!r}, {row[0]!r} × {t['header'][col]!r}: printed {cell!r}, "
                                 f"the published table says {expected!r}")
    return wrong, unmapped, checked


def test_every_number_the_memo_prints_maps_to_a_published_value_a_parameter_or_a_date(run):
    """The text, every table and the charts' alt texts: each printed figure is the published table's (or a
    parameter's), and no other number is printed except dates, legal paragraphs, the memo's fixed horizons and
    band labels (_EXEMPT) and the analysts' own words; the colophon (run metadata) is left out."""
    import yaml

    base, _ = run
    status = yaml.safe_load((base / "raw" / "status" / f"{MONTH}.yml").read_text(encoding="utf-8"))
    shelters = pd.read_parquet(base / "processed" / MONTH / "shelters.parquet")
    names = dict(zip(shelters["name"], shelters["shelter_id"]))
    wrong, unmapped, checked = memo_number_check(base / "reports" / MONTH, status, names)
    assert wrong == []
    assert unmapped == []
    assert checked >= 200  # the check read the memo: its tables alone hold more figures than that
