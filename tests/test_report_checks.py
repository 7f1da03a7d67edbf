"""The post-render checks catch what must never reach management (negative controls)."""
from pathlib import Path

import pytest

from analysis.report.checks import check_html
from tests.browser import chromium_check

BAD = """<!DOCTYPE html><html lang="en"><head><title>x</title>
<link rel="stylesheet" href="https://cdn.example.com/a.css">
<script src="http://cdnjs.example.org/require.js"></script>
<style>body { background: url("//example.com/bg.png") } .i { background: url(data:image/svg+xml,%3csvg xmlns='http://www.w3.org/2000/svg'%3e) }</style>
</head><body><h1>Hej</h1><img src="data:image/png;base64,AAAA"><a href="https://example.com">kilde</a>
<pre class="sourceCode python"><code>print(1)</code></pre><p>@@RENDERER@@</p>
<script>fetch("https://api.example.net/data")</script></body></html>"""

GOOD = """<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml" lang="da"><head><title>Notat</title>
<style>.i { background: url(data:image/svg+xml,%3csvg xmlns='http://www.w3.org/2000/svg'%3e) }</style></head>
<body><h1>Notat</h1><p>Kilde: https://www.dst.dk (som tekst)</p>
<img src="data:image/png;base64,AAAA" alt="Søjlediagram"></body></html>"""


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.html"
    path.write_text(BAD, encoding="utf-8")
    return path


def test_check_html_finds_every_problem(bad: Path):
    problems = "\n".join(check_html(bad))
    for expected in ('lang="da"', "cdn.example.com", "cdnjs.example.org", "//example.com/bg.png",
                     "<a href>: https://example.com", "without alt", "sourceCode", "@@RENDERER@@"):
        assert expected in problems
    assert "w3.org" not in problems  # namespaces and data: URLs are not references


def test_check_html_accepts_clean_report(tmp_path: Path):
    path = tmp_path / "good.html"
    path.write_text(GOOD, encoding="utf-8")
    assert check_html(path) == []


@pytest.mark.browser
def test_browser_check_sees_requests_the_page_makes(bad: Path):
    result = chromium_check(bad)
    assert {"https://cdn.example.com/a.css", "http://cdnjs.example.org/require.js",
            "https://api.example.net/data"} <= set(result.requests)
    assert "<h1>Hej</h1>" in result.dom


@pytest.mark.parametrize(("tag", "ok"), [
    ('<a href="technical_appendix.html">Teknisk bilag</a>', True),
    ('<a href="status_memo.docx">Word</a>', True),
    ('<a href="./technical_appendix.html">x</a>', False),
    ('<a href="../2023-01/technical_appendix.html">x</a>', False),
    ('<a href="notes.html">x</a>', False),
    ('<img src="technical_appendix.html" alt="x">', False),
    ('<link rel="stylesheet" href="data_quality.html">', False),
])
def test_only_links_to_sibling_reports_are_allowed(tmp_path: Path, tag: str, ok: bool):
    from analysis.report.checks import trust_problems_html

    html = GOOD.replace("<h1>Notat</h1>", f"<h1>Notat</h1>{tag}")
    assert (trust_problems_html(html) == []) is ok


def test_sibling_reports_are_the_reports_a_run_publishes():
    from analysis.pipeline.steps import STEPS
    from analysis.report.checks import SIBLING_REPORTS

    assert SIBLING_REPORTS == {f"{s.report}.{fmt}" for s in STEPS if s.report for fmt in s.formats}


@pytest.mark.parametrize(("target", "kind", "ok"), [
    ("technical_appendix.html", "hyperlink", True),
    ("https://example.invalid/x", "hyperlink", False),
    ("../technical_appendix.html", "hyperlink", False),
    ("technical_appendix.html", "image", False),
    ("technical_appendix.html", "attachedTemplate", False),
])
def test_word_may_link_a_sibling_report_and_nothing_else(tmp_path: Path, target: str, kind: str, ok: bool):
    import zipfile

    from analysis.report.checks import trust_problems_docx

    rel = (f'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           f'{kind}" Target="{target}" TargetMode="External" />')
    path = tmp_path / "r.docx"
    with zipfile.ZipFile(path, "w") as docx:
        docx.writestr("word/document.xml", "<w:document/>")
        docx.writestr("word/_rels/document.xml.rels", f"<Relationships>{rel}</Relationships>")
    assert (trust_problems_docx(path) == []) is ok
