"""Every picture really in the report: refused before rendering when missing or foreign, checked after.

Tiny hand-made notebooks and files; no kernel runs here. The concurrent-run
test (tests/test_report_concurrency.py) exercises the same checks on real
executions.
"""
from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from analysis.report import render
from analysis.report.checks import check_docx_images, check_html_images


def _png(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), colour).save(out, format="PNG")
    return out.getvalue()


PNG = _png()
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode("ascii")


def _executed(folder: Path, *markdown: str, figures: dict[str, bytes] | None = None) -> Path:
    """An 'executed' report notebook whose cells displayed ``markdown``, with ``figures`` saved beside it."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_raw_cell('---\ntitle: "Prøve"\nlang: da\n---'))
    for text in markdown:
        cell = nbformat.v4.new_code_cell("show.md(...)")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": text})]
        nb.cells.append(cell)
    for name, data in (figures or {}).items():
        (folder / "figures").mkdir(exist_ok=True)
        (folder / "figures" / name).write_bytes(data)
    path = folder / "proeve.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def fallback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: None)


FIGURE = '![Boliger pr. måned](figures/boliger.png){fig-alt="Linjediagram: boligerne steg fra 4 til 17."}\n'


def test_figures_are_counted_and_embedded(tmp_path: Path, fallback_only: None) -> None:
    second = FIGURE.replace("boliger.png", "pladser.png")
    executed = _executed(tmp_path, "## Boliger\n\n" + FIGURE, second,
                         figures={"boliger.png": PNG, "pladser.png": _png("blue"), "unused.png": PNG})
    result = render.render_report(executed, tmp_path / "out")
    assert result.figures == 2 and result.problems == []
    html = result.files["html"].read_text(encoding="utf-8")
    assert html.count("<img") == 2 and "figures/" not in html


def test_missing_figure_stops_the_render(tmp_path: Path, fallback_only: None) -> None:
    """The race the runner had: the notebook says it drew a chart, the file is not where it said."""
    previous = tmp_path / "out" / "proeve.html"
    previous.parent.mkdir()
    previous.write_text("forrige rapport", encoding="utf-8")
    executed = _executed(tmp_path, FIGURE)
    with pytest.raises(render.RenderError, match="figure boliger.png is missing"):
        render.render_report(executed, tmp_path / "out")
    assert previous.read_text(encoding="utf-8") == "forrige rapport"


@pytest.mark.parametrize("reference", [
    "![nøgle](/etc/boligreform/pseudonym.key)",
    "![x](figures/../../secret.png)",
    "![x](figures/boliger.svg)",
    "![x](https://example.invalid/x.png)",
    "![x](file:///etc/passwd)",
    "![a ![b](c) d](figures/boliger.png)",
])
def test_an_image_that_is_not_a_figure_of_the_report_is_refused(tmp_path: Path, fallback_only: None,
                                                                 reference: str) -> None:
    executed = _executed(tmp_path, f"Tekst {reference} mere tekst", figures={"boliger.png": PNG})
    with pytest.raises(render.RenderError, match="not one of the report's figures"):
        render.render_report(executed, tmp_path / "out")


@pytest.mark.parametrize("raw", ['<img src="/etc/passwd" alt="x">', "<SCRIPT>alert(1)</SCRIPT>",
                                 '< iframe src="x">', '<link rel="stylesheet" href="a.css">'])
def test_raw_html_that_loads_something_is_refused(tmp_path: Path, fallback_only: None, raw: str) -> None:
    executed = _executed(tmp_path, f"Tekst {raw}")
    with pytest.raises(render.RenderError, match="raw HTML"):
        render.render_report(executed, tmp_path / "out")


def test_escaped_markup_is_text_not_a_reference(tmp_path: Path, fallback_only: None) -> None:
    """What the escaping layer emits for hostile extract values renders as the characters, nothing loads."""
    executed = _executed(tmp_path, r"Årsag: \!\[k\]\(/etc/key\) og \<img src=x\>")
    result = render.render_report(executed, tmp_path / "out")
    html = result.files["html"].read_text(encoding="utf-8")
    assert result.figures == 0 and result.problems == [] and "<img" not in html
    assert "![k](/etc/key)" in html and "&lt;img src=x&gt;" in html


def test_an_image_output_without_alt_text_is_refused(tmp_path: Path, fallback_only: None) -> None:
    executed = _executed(tmp_path, "Tekst")
    nb = nbformat.read(executed, as_version=4)
    nb.cells[1].outputs.append(nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG)
                                                                            .decode("ascii")}))
    nbformat.write(nb, executed)
    with pytest.raises(render.RenderError, match="image output without alt text"):
        render.render_report(executed, tmp_path / "out")


# --- the checks on the rendered files ---------------------------------------------------------------------------


def _html(tmp_path: Path, *imgs: str) -> Path:
    path = tmp_path / "r.html"
    body = "".join(f'<img src="{src}" alt="diagram">' for src in imgs)
    path.write_text(f'<!DOCTYPE html><html lang="da"><head><title>t</title></head><body>{body}</body></html>',
                    encoding="utf-8")
    return path


def test_html_images_pass_when_embedded_valid_and_all_there(tmp_path: Path) -> None:
    assert check_html_images(_html(tmp_path, PNG_URI, PNG_URI), 2) == []
    assert check_html_images(_html(tmp_path), 0) == []


@pytest.mark.parametrize(("src", "why"), [
    ("figures/boliger.png", "not embedded"),
    ("/abs/figures/boliger.png", "not embedded"),
    ("data:image/png,rawbytes", "without base64"),
    ("data:image/png;base64,%%%", "not valid base64"),
    ("data:image/png;base64," + base64.b64encode(b"not a png at all").decode("ascii"), "not a valid image"),
    ("data:image/png;base64," + base64.b64encode(PNG[:30]).decode("ascii"), "not a valid image"),
    ("data:text/html;base64,PHNjcmlwdD4=", "not embedded"),
])
def test_html_image_problems_are_named(tmp_path: Path, src: str, why: str) -> None:
    problems = check_html_images(_html(tmp_path, PNG_URI, src), 2)
    assert len(problems) == 1 and problems[0].startswith("picture 2: ") and why in problems[0]


def test_html_image_count_must_match_the_figures_drawn(tmp_path: Path) -> None:
    assert check_html_images(_html(tmp_path, PNG_URI), 2) == ["1 pictures in the file, the notebook drew 2"]
    assert check_html_images(_html(tmp_path, PNG_URI, PNG_URI), 1) == ["2 pictures in the file, the notebook drew 1"]


def _docx(tmp_path: Path, pictures: list[tuple[str, str, str]], media: dict[str, bytes]) -> Path:
    """A minimal docx: ``pictures`` as (descr, relationship id, target mode) drawings, ``media`` as parts."""
    drawings = "".join(
        f'<w:p><w:r><w:drawing><wp:inline><wp:docPr id="{i}" name="Picture" descr="{descr}" />'
        f'<a:graphic><pic:pic><pic:blipFill><a:blip r:embed="{rid}" /></pic:blipFill></pic:pic></a:graphic>'
        f'</wp:inline></w:drawing></w:r></w:p>' for i, (descr, rid, _) in enumerate(pictures, 1))
    rels = "".join(f'<Relationship Id="{rid}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   f'relationships/image" Target="{target}"{mode} />'
                   for rid, target, mode in [("rId9", "media/a.png", ""), ("rId10", "media/b.png", ""),
                                             ("rId11", "https://example.invalid/x.png", ' TargetMode="External"')])
    path = tmp_path / "r.docx"
    with zipfile.ZipFile(path, "w") as docx:
        docx.writestr("word/document.xml", f"<w:document><w:body>{drawings}</w:body></w:document>")
        docx.writestr("word/_rels/document.xml.rels", f"<Relationships>{rels}</Relationships>")
        for name, data in media.items():
            docx.writestr(f"word/media/{name}", data)
    return path


def test_docx_images_pass_when_embedded_valid_and_described(tmp_path: Path) -> None:
    path = _docx(tmp_path, [("Linjediagram", "rId9", ""), ("Søjlediagram", "rId10", "")],
                 {"a.png": PNG, "b.png": _png("blue")})
    assert check_docx_images(path, 2) == []


def test_docx_image_problems_are_named(tmp_path: Path) -> None:
    path = _docx(tmp_path, [("", "rId9", ""), ("Søjler", "rId10", ""), ("Link", "rId11", ""), ("x", "rId99", "")],
                 {"a.png": PNG, "b.png": b"GIF89a broken"})
    assert check_docx_images(path, 3) == [
        "picture 1: no alt text (descr)",
        "picture 2: not a valid image (UnidentifiedImageError)",
        "picture 3: not embedded in the file",
        "picture 4: not embedded in the file",
        "4 pictures in the file, the notebook drew 3",
    ]
