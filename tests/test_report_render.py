"""Render a tiny executed report with both renderers and check what management would receive."""
from __future__ import annotations

import html as htmlmod
import re
import shutil
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from analysis.report import render, word_reference
from analysis.report.checks import check_docx, check_docx_images, check_html
from tests.browser import chromium_check

QUARTO_SKIP = ("quarto not on PATH: the Quarto path is tested where Quarto is installed; this machine renders "
               "with the nbconvert+pandoc fallback")
FRONT_MATTER = """---
title: "Prøverapport: boliger"
lang: da
format:
  html:
    embed-resources: true
    toc: true
  docx: default
echo: false
warning: false
---"""

CELLS = [
    ("code", 'month = "2023-02"', ["parameters"]),
    ("code", """\
import warnings
from pathlib import Path
import pandas as pd
from analysis.context import RunContext
from analysis.params import load_params
from analysis.base import fmt
from analysis.report import charts, show
from analysis.report.colophon import RENDERER_PLACEHOLDER, colophon_markdown
charts.apply_style()
print("støj fra stdout")
warnings.warn("en advarsel")""", []),
    ("markdown", "## Boliger til boligsocial anvisning", []),
    ("code", 'show.md(f"Der blev modtaget **{fmt.number(1234.5, 1)}** boliger i {fmt.period(month)}.")', []),
    ("code", """\
df = pd.DataFrame({"Huslejeinterval": ["Under 4.500 kr.", "4.500–5.000 kr. | inkl."], "Boliger": ["1.234", "4"]})
show.table(df, caption="Boliger modtaget efter husleje")""", []),
    ("code", "df  # a stray DataFrame display: text/html, must not reach the report", []),
    ("code", """\
series = pd.DataFrame({"period": ["2022-12", "2023-01", "2023-02"], "value": [110.0, 1200.0, 1234.5]})
fig = charts.line_chart(series, "period", "value", title="Modtagne boliger", ylabel="Boliger")
show.figure(fig, "boliger", alt="Linjediagram: modtagne boliger steg fra 110 til 1.234 fra december til februar.",
            caption="Modtagne boliger pr. måned")""", []),
    ("markdown", "## Om rapporten", []),
    ("code", """\
ctx = RunContext(pd.Period(month, "M"), Path("."), Path("."), Path("."), load_params(),
                 pd.Timestamp("2023-03-03"), "file_mtime")
show.md(colophon_markdown(ctx, RENDERER_PLACEHOLDER, "abc123", "0.1.0+test", pd.Timestamp("2023-03-04 14:05")))""", []),
]


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_raw_cell(FRONT_MATTER))
    for kind, source, tags in CELLS:
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nb


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny report, executed by papermill in its own folder (figures land beside it)."""
    folder = tmp_path_factory.mktemp("report")
    source, target = folder / "source.ipynb", folder / "proeve.ipynb"
    nbformat.write(_notebook(), source)
    papermill.execute_notebook(str(source), str(target), parameters={"month": "2023-02"},
                               kernel_name="python3", cwd=str(folder), progress_bar=False)
    return target


@pytest.fixture(scope="module")
def fallback(executed: Path, tmp_path_factory: pytest.TempPathFactory) -> render.RenderResult:
    out = tmp_path_factory.mktemp("out")
    mp = pytest.MonkeyPatch()
    mp.setattr(render.shutil, "which", lambda name: None)  # force the fallback even where Quarto exists
    try:
        return render.render_report(executed, out, metadata={"subtitle": "Februar 2023"})
    finally:
        mp.undo()


def _assert_report(result: render.RenderResult) -> None:
    html = result.files["html"].read_text(encoding="utf-8")
    assert check_html(result.files["html"]) == []
    assert check_docx(result.files["docx"]) == []
    assert result.problems == []
    assert re.search(r'<html[^>]*\blang="da"', html)
    assert 'alt="Linjediagram: modtagne boliger steg' in html
    assert "data:image/png;base64," in html  # the figure is embedded, not linked
    assert "Prøverapport: boliger" in html and "Modtagne boliger pr. måned" in html
    assert "1.234,5" in html and "februar 2023" in html
    assert "4.500–5.000 kr. | inkl." in html  # escaped pipe stays inside its cell
    assert "støj fra stdout" not in html and "en advarsel" not in html
    assert "show.md" not in html and "import " not in html  # no code
    assert "<pre" not in html and "dataframe" not in html.lower()
    assert "sourceCode" not in html  # not even pandoc's default code styles: the house CSS alone
    assert "udledt af fildato" in html and "Kolofon" in html


def test_fallback_renders_checked_html_and_docx(fallback: render.RenderResult) -> None:
    assert fallback.renderer.startswith("fallback: nbconvert ") and ", pandoc " in fallback.renderer
    assert set(fallback.files) == {"html", "docx"}
    _assert_report(fallback)
    html = fallback.files["html"].read_text(encoding="utf-8")
    assert "reserverenderer" in html and "pandoc" in html  # the colophon names the renderer
    assert "Indhold" in html  # Danish table of contents
    assert "Februar 2023" in html  # metadata (subtitle) reached the document


def test_fallback_docx_has_alt_text_and_no_placeholder(fallback: render.RenderResult) -> None:
    with zipfile.ZipFile(fallback.files["docx"]) as docx:
        document = docx.read("word/document.xml").decode("utf-8")
    assert 'descr="Linjediagram: modtagne boliger steg' in document
    assert "reserverenderer" in document and "@@RENDERER@@" not in document


def test_render_leaves_no_scratch_files(fallback: render.RenderResult) -> None:
    folder = fallback.files["html"].parent
    assert sorted(p.name for p in folder.iterdir()) == ["proeve.docx", "proeve.html"]


def test_failed_render_keeps_previous_report(executed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "proeve.html"
    good.write_text("previous good report", encoding="utf-8")
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    broken = tmp_path.parent / "broken.lua"
    broken.write_text("function Image(img) return img", encoding="utf-8")  # a Lua syntax error: pandoc fails
    monkeypatch.setattr(render, "LUA_FILTER", broken)
    with pytest.raises(render.RenderError, match="pandoc"):
        render.render_report(executed, tmp_path, formats=("html",))
    assert good.read_text(encoding="utf-8") == "previous good report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proeve.html"]


@pytest.mark.browser
def test_fallback_report_opens_offline_in_chromium(fallback: render.RenderResult, tmp_path: Path) -> None:
    result = chromium_check(fallback.files["html"], screenshot=tmp_path / "report.png")
    assert result.requests == []
    assert "<h1" in result.dom and "Boliger til boligsocial anvisning" in result.dom
    assert "<pre" not in result.dom and "show.md" not in result.dom
    assert result.screenshot is not None and result.screenshot.stat().st_size > 10_000


@pytest.mark.quarto
@pytest.mark.skipif(shutil.which("quarto") is None, reason=QUARTO_SKIP)
def test_quarto_renders_checked_html_and_docx(executed: Path, tmp_path: Path) -> None:
    result = render.render_report(executed, tmp_path, metadata={"subtitle": "Februar 2023"})
    assert result.renderer.startswith("quarto ")
    _assert_report(result)
    assert "Quarto" in result.files["html"].read_text(encoding="utf-8")
    assert chromium_check(result.files["html"]).requests == []


def test_quarto_command_lines(executed: Path, fallback: render.RenderResult, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The Quarto branch without Quarto: one command per format, metadata as a YAML file, never ``-M``."""
    calls: list[tuple[list[str], Path]] = []
    seen: dict[str, dict] = {}

    def fake_run_all(commands: list[tuple[list[str], Path]]) -> None:
        for args, cwd in commands:
            calls.append((list(args), cwd))
            to = args[args.index("--to") + 1]
            prepared = nbformat.read(cwd / args[2], as_version=4)
            front = yaml.safe_load(prepared.cells[0].source.strip().strip("-"))
            text = "\n".join(o.get("data", {}).get("text/markdown", "") for c in prepared.cells
                             if c.cell_type == "code" for o in c.outputs)
            assert "Quarto 1.7.31" in text and "@@RENDERER@@" not in text
            assert "](figures/boliger.png)" in text and (cwd / "figures" / "boliger.png").is_file()
            assert all(c.source.startswith("#| echo: false") for c in prepared.cells if c.cell_type == "code")
            seen[to] = {"front": front, "meta": yaml.safe_load((cwd / "metadata.yml").read_text(encoding="utf-8")),
                        "files": sorted(p.name for p in cwd.iterdir())}
            (cwd / "out").mkdir()
            shutil.copy(fallback.files[to], cwd / "out" / f"{Path(args[2]).stem}.{to}")

    monkeypatch.setattr(render.shutil, "which", lambda name: "/opt/quarto/bin/quarto")
    monkeypatch.setattr(render, "_run", lambda args, cwd: "1.7.31\n")  # quarto --version
    monkeypatch.setattr(render, "_run_all", fake_run_all)
    title = 'Status: februar 2023 – "Spor 1" & æøå'
    result = render.render_report(executed, tmp_path, metadata={"title": title})
    assert result.renderer == "quarto 1.7.31" and result.figures == 1 and result.problems == []
    assert [args[:5] for args, _ in calls] == [["/opt/quarto/bin/quarto", "render", "proeve.ipynb", "--to", to]
                                              for to in ("html", "docx")]
    assert all("-M" not in args and args[-2:] == ["--metadata-file", "metadata.yml"] and "--no-execute" in args
               for args, _ in calls)
    assert calls[0][1] != calls[1][1]  # a folder per format: the two run side by side
    for to in ("html", "docx"):
        assert seen[to]["meta"] == {"lang": "da", "toc-title": "Indhold", "document-css": False, "title": title}
        assert seen[to]["front"]["title"] == title  # Quarto would otherwise promote the first heading
        assert seen[to]["files"] == ["fig_alt.lua", "figures", "landmark.lua", "metadata.yml", "proeve.ipynb",
                                     "reference.docx", "style.html"]
    html, docx = seen["html"]["front"]["format"]["html"], seen["docx"]["front"]["format"]["docx"]
    assert html["embed-resources"] is True and html["minimal"] is True and html["toc"] is True
    assert docx["reference-doc"] == "reference.docx" and docx["shift-heading-level-by"] == -1
    assert set(result.files) == {"html", "docx"}


AWKWARD_TITLES = ['Status: februar 2023', 'Borgere "på gaden": ø/æ/å', "Spor 7 – § 110: 'pladser' # 1"]


@pytest.mark.parametrize("title", AWKWARD_TITLES)
def test_fallback_keeps_awkward_titles_intact(executed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              title: str) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    _assert_title(render.render_report(executed, tmp_path, metadata={"title": title}), title)


@pytest.mark.quarto
@pytest.mark.skipif(shutil.which("quarto") is None, reason=QUARTO_SKIP)
def test_quarto_keeps_awkward_titles_intact(executed: Path, tmp_path: Path) -> None:
    title = " / ".join(AWKWARD_TITLES)  # one render: Quarto takes seconds per document
    _assert_title(render.render_report(executed, tmp_path, metadata={"title": title}), title)


def _assert_title(result: render.RenderResult, title: str) -> None:
    html = result.files["html"].read_text(encoding="utf-8")
    assert _title_text(html) == _typographic(title)
    assert re.search(r'<html[^>]*\blang="da"', html)
    assert _typographic(title) in docx_text(result.files["docx"])


def _typographic(text: str) -> str:
    """pandoc's smart quotes: what a title with straight quotes looks like once rendered."""
    return re.sub(r"'([^']*)'", "‘\\1’", re.sub(r'"([^"]*)"', "“\\1”", text))


def _title_text(html: str) -> str:
    return htmlmod.unescape(re.search(r"<title>(.*?)</title>", html, re.DOTALL).group(1)).strip()


def docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as docx:
        document = docx.read("word/document.xml").decode("utf-8")
    return htmlmod.unescape("".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", document)))



class _Outline(HTMLParser):
    """What a reader gets from an HTML report, whatever the styling: text, headings, table cells, pictures."""

    _SKIP = {"script", "style", "nav", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self.headings: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.images: list[str] = []  # alt texts
        self.toc_title = ""
        self._skipping: list[str] = []
        self._heading: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_toc_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "h2" and attr.get("id") == "toc-title":
            self._in_toc_title = True
        if tag in self._SKIP:
            self._skipping.append(tag)
        elif self._skipping:
            return
        elif tag in {"h1", "h2", "h3", "h4"}:
            self._heading = []
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in {"td", "th"}:
            self._cell = []
        elif tag == "img":
            self.images.append(attr.get("alt") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_toc_title = False
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.pop()
        elif self._skipping:
            return
        elif tag in {"h1", "h2", "h3", "h4"} and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None
        elif tag in {"td", "th"} and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_toc_title:
            self.toc_title += data
        if self._skipping:
            return
        self.words += data.split()
        for part in (self._heading, self._cell):
            if part is not None:
                part.append(data)


def _without_renderer(words: list[str]) -> str:
    """The text with the colophon's renderer line cut out: the one place the two renderers must differ."""
    return re.sub(r"Renderet med:.*?Kørselstidspunkt", "Renderet med: … Kørselstidspunkt", " ".join(words))


def outline(path: Path) -> _Outline:
    parser = _Outline()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _word_layout(path: Path) -> dict:
    """What Word users see of the layout: page size and margins, heading styles, contents title, header rows."""
    with zipfile.ZipFile(path) as docx:
        document = docx.read("word/document.xml").decode("utf-8")
        styles = docx.read("word/styles.xml").decode("utf-8")
    return {
        "page": re.search(r"<w:pgSz [^>]*>", document) and dict(re.findall(r'w:(\w+)="(\d+)"', re.search(
            r"<w:pgSz [^>]*>", document).group(0))),
        "margins": {k: v for k, v in re.findall(r'w:(top|left|right|bottom)="(\d+)"',
                                                 re.search(r"<w:pgMar [^>]*>", document).group(0))},
        "headings": re.findall(r'<w:pStyle w:val="(Heading\d)"', document),
        "toc": "TOC \\o" in document and "Indhold" in docx_text(path),
        "header_rows": document.count("<w:tblHeader"),
        "tables": document.count("<w:tbl>"),
        "lang": re.search(r'<w:lang\b[^>]*\bw:val="([^"]+)"', styles).group(1),
    }


def test_word_output_fits_word_users(fallback: render.RenderResult) -> None:
    layout = _word_layout(fallback.files["docx"])
    assert layout["page"] == {"w": "11906", "h": "16838"}  # A4
    assert layout["margins"] == {"top": "1417", "right": "1417", "bottom": "1417", "left": "1417"}  # 2,5 cm
    assert layout["headings"] == ["Heading1"] * 3  # the "##" sections (two + colophon): a real outline
    assert layout["toc"] and layout["lang"].startswith("da")
    assert layout["tables"] == 1 and layout["header_rows"] == layout["tables"]


def test_reference_docx_is_pandocs_default_restyled() -> None:
    """The committed reference document is what :mod:`word_reference` builds (kept reviewable as code)."""
    with zipfile.ZipFile(render.REFERENCE_DOCX) as docx:
        document = docx.read("word/document.xml").decode("utf-8")
        styles = docx.read("word/styles.xml").decode("utf-8")
    assert word_reference.restyle(document, styles) == (document, styles)  # already restyled: a fixed point
    assert '<w:pgSz w:w="11906" w:h="16838" />' in document and 'w:val="da-DK"' in styles


@pytest.mark.quarto
@pytest.mark.skipif(shutil.which("quarto") is None, reason=QUARTO_SKIP)
def test_both_renderers_give_the_same_document(executed: Path, fallback: render.RenderResult,
                                               tmp_path: Path) -> None:
    quarto = render.render_report(executed, tmp_path, metadata={"subtitle": "Februar 2023"})
    assert quarto.renderer.startswith("quarto ") and quarto.problems == []
    ours, theirs = outline(fallback.files["html"]), outline(quarto.files["html"])
    assert theirs.headings == ours.headings
    assert theirs.tables == ours.tables  # cell by cell
    assert theirs.images == ours.images and len(ours.images) == fallback.figures == 1
    assert theirs.toc_title.strip() == ours.toc_title.strip() == "Indhold"
    for result in (quarto, fallback):  # one <main> landmark in each
        assert result.files["html"].read_text(encoding="utf-8").count("<main") == 1
    assert _without_renderer(theirs.words) == _without_renderer(ours.words)  # the text, word by word
    assert _word_layout(quarto.files["docx"]) == _word_layout(fallback.files["docx"])
    assert _without_renderer(docx_text(quarto.files["docx"]).split()) == _without_renderer(
        docx_text(fallback.files["docx"]).split())
    for result in (quarto, fallback):
        assert check_docx_images(result.files["docx"], 1) == []
        assert 'descr="Linjediagram: modtagne boliger steg' in zipfile.ZipFile(result.files["docx"]).read(
            "word/document.xml").decode("utf-8")


def test_a_metadata_block_displayed_at_run_time_sets_the_title(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The title with the month comes from the run (document.title_block); it is a field, not text."""
    from analysis.report.document import title_block
    from analysis.report.memo.overview import TITLE

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_raw_cell('---\ntitle: "Statusnotat"\nlang: da\n---'))
    for text in (title_block(pd_period("2023-02"), TITLE), "## Spor 1\n\nTekst.\n", "---\n\nEn streg, ikke metadata.\n"):
        cell = nbformat.v4.new_code_cell("show.md(...)")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": text})]
        nb.cells.append(cell)
    executed = tmp_path / "memo.ipynb"
    nbformat.write(nb, executed)
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    result = render.render_report(executed, tmp_path / "out", metadata={"subtitle": "Prøve"})
    html = result.files["html"].read_text(encoding="utf-8")
    assert _title_text(html) == "Status på bolig- og hjemløseaftalen pr. februar 2023"
    assert "title:" not in html and "En streg, ikke metadata." in html
    assert "Status på bolig- og hjemløseaftalen pr. februar 2023" in docx_text(result.files["docx"])


def pd_period(month: str):
    import pandas as pd

    return pd.Period(month, "M")
