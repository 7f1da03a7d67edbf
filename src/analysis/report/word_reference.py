"""The Word reference document both renderers style the .docx with (``assets/reference.docx``).

pandoc (and Quarto, which runs pandoc) take page size, margins, language and
paragraph styles from a *reference docx*. Its default is US Letter with an
English language tag, which a Danish reader printing on A4 notices at once. The
committed file is pandoc's own default with exactly the changes below, so what
changed is reviewable as code rather than as a binary:

- A4 (210 × 297 mm) with 2,5 cm margins;
- Danish as the document language (spelling, hyphenation, screen readers);
- headings keep their outline levels (Word's navigation pane and contents).

Table header rows are repeated on every page by pandoc itself (``w:tblHeader``),
and the contents title ("Indhold") comes from the ``toc-title`` metadata.

Regenerate after a pandoc upgrade with ``python -m analysis.report.word_reference``.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ASSET = Path(__file__).parent / "assets" / "reference.docx"
TWIPS_PER_CM = 1440 / 2.54
A4_TWIPS = (11906, 16838)  # width, height
MARGIN_TWIPS = round(2.5 * TWIPS_PER_CM)  # 1417
LANG = "da-DK"

_SECTION = (
    "<w:sectPr><w:footnotePr><w:numRestart w:val=\"eachSect\" /></w:footnotePr>"
    f"<w:pgSz w:w=\"{A4_TWIPS[0]}\" w:h=\"{A4_TWIPS[1]}\" />"
    f"<w:pgMar w:top=\"{MARGIN_TWIPS}\" w:right=\"{MARGIN_TWIPS}\" w:bottom=\"{MARGIN_TWIPS}\" "
    f"w:left=\"{MARGIN_TWIPS}\" w:header=\"709\" w:footer=\"709\" w:gutter=\"0\" /></w:sectPr>"
)


def restyle(document_xml: str, styles_xml: str) -> tuple[str, str]:
    """pandoc's default ``document.xml`` and ``styles.xml`` with the A4 section and the Danish language."""
    document, sections = re.subn(r"<w:sectPr>.*?</w:sectPr>", _SECTION, document_xml, flags=re.DOTALL)
    styles, langs = re.subn(r'<w:lang w:val="[^"]*"', f'<w:lang w:val="{LANG}"', styles_xml, count=1)
    if sections != 1 or langs != 1:
        raise ValueError("pandoc's default reference.docx changed shape: update analysis.report.word_reference")
    return document, styles


def build(pandoc: str, target: Path) -> None:
    """Write the reference docx from ``pandoc``'s default one."""
    with tempfile.TemporaryDirectory() as tmp:
        default = Path(tmp) / "default.docx"
        subprocess.run([pandoc, "-o", str(default), "--print-default-data-file", "reference.docx"], check=True)
        with zipfile.ZipFile(default) as src:
            parts = {info: src.read(info) for info in src.infolist()}
        by_name = {info.filename: info for info in parts}
        document, styles = restyle(parts[by_name["word/document.xml"]].decode("utf-8"),
                                   parts[by_name["word/styles.xml"]].decode("utf-8"))
        parts[by_name["word/document.xml"]] = document.encode("utf-8")
        parts[by_name["word/styles.xml"]] = styles.encode("utf-8")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info, data in parts.items():
                out.writestr(info, data)


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    import pypandoc

    build(pypandoc.get_pandoc_path(), ASSET)
    print(f"wrote {ASSET}", file=sys.stderr)
