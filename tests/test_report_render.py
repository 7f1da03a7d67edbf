"""Render a tiny executed report with both renderers and check what management would receive."""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import papermill
import pytest

from analysis.report import render
from analysis.report.checks import check_docx, check_html
from tests.browser import chromium_check

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
from analysis.report import charts, fmt, show
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
    monkeypatch.setattr(render, "LUA_FILTER", tmp_path / "missing.lua")
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
@pytest.mark.skipif(shutil.which("quarto") is None, reason="quarto not on PATH: the Quarto path is tested where "
                    "Quarto is installed; this machine renders with the nbconvert+pandoc fallback")
def test_quarto_renders_checked_html_and_docx(executed: Path, tmp_path: Path) -> None:
    result = render.render_report(executed, tmp_path, metadata={"subtitle": "Februar 2023"})
    assert result.renderer.startswith("quarto ")
    _assert_report(result)
    assert "Quarto" in result.files["html"].read_text(encoding="utf-8")
    assert chromium_check(result.files["html"]).requests == []


def test_quarto_command_line(executed: Path, fallback: render.RenderResult, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The Quarto branch without Quarto: the command line it builds and the prepared notebook it renders."""
    calls: list[list[str]] = []

    def fake_run(args: list[str], cwd: Path) -> str:
        calls.append(list(args))
        if args[1] == "--version":
            return "1.7.31\n"
        to, out_dir = args[args.index("--to") + 1], args[args.index("--output-dir") + 1]
        prepared = nbformat.read(cwd / args[2], as_version=4)
        text = "\n".join(o.get("data", {}).get("text/markdown", "") for c in prepared.cells if c.cell_type == "code"
                         for o in c.outputs)
        assert "Quarto 1.7.31" in text and "@@RENDERER@@" not in text
        assert all(c.source.startswith("#| echo: false") for c in prepared.cells if c.cell_type == "code")
        (cwd / out_dir).mkdir()
        shutil.copy(fallback.files[to], cwd / out_dir / f"{Path(args[2]).stem}.{to}")
        return ""

    monkeypatch.setattr(render.shutil, "which", lambda name: "/opt/quarto/bin/quarto")
    monkeypatch.setattr(render, "_run", fake_run)
    result = render.render_report(executed, tmp_path, metadata={"title": "Status: februar 2023"})
    assert result.renderer == "quarto 1.7.31"
    html_call, docx_call = calls[1], calls[2]
    assert html_call[:4] == ["/opt/quarto/bin/quarto", "render", "proeve.ipynb", "--to"] and "--no-execute" in html_call
    meta = {html_call[i + 1] for i, a in enumerate(html_call) if a == "-M"}
    assert {'lang:"da"', "embed-resources:true", 'html-math-method:"mathml"', "echo:false",
            'title:"Status: februar 2023"'} <= meta
    assert "embed-resources:true" not in docx_call
    assert set(result.files) == {"html", "docx"}
