"""Find developer words in a rendered report: identifiers, parameter keys, file names, issue references.

A head of department reads Danish. Anything from the code that reaches a report
(``arrears_median``, ``day_rates.s107_per_day``, ``domain-facts.md``, a scenario
id, "Issue 6") is a defect, so the tests scan the text a reader sees (HTML text
and alt texts, the docx's text) against the package's own identifiers and
against the shapes such words take. The technical appendix, written for
analysts, is exempt by design.
"""
from __future__ import annotations

import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable

SNAKE_CASE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
FILE_NAME = re.compile(r"\b[\w-]+\.(?:py|md|yml|yaml|csv|parquet|ipynb|json|lua|css|docx)\b", re.IGNORECASE)
ISSUE_REF = re.compile(r"\bissue\b", re.IGNORECASE)
# English words that have slipped into the reports before (scenario ids are added from the parameter file).
ENGLISH = ("stock-and-flow", "seed", "backtest", "baseline", "scenario", "breakdown", "indicator",
           "Table of Contents", "Contents", "Figure", "Table")
# Identifiers that are also ordinary Danish words: they cannot be told apart in running text.
DANISH_WORDS = frozenset({"reform", "total", "model", "andel", "andet", "periode"})


def package_identifiers() -> set[str]:
    """Indicator ids and breakdowns, parameter keys and their parts, scenario ids and levers."""
    from analysis.forecast.scenarios import KNOBS
    from analysis.indicators.catalogue import load_catalogue
    from analysis.params import load_params

    found: set[str] = set()
    for ind, entry in load_catalogue().items():
        found.add(ind)
        found.update(str(b) for b in entry.get("breakdowns", []))
    params = load_params()
    for key in params:
        found.add(key)
        found.update(part for part in key.split(".") if "_" in part)
    found.update(params["scenarios.definitions"])
    found.update(KNOBS)
    english = set(params["scenarios.definitions"]) | set(KNOBS)
    # Raw category names are Danish words ("boliger", "selvejende"): only code-shaped ids and the English ones count.
    return {w for w in found if w and w.lower() not in DANISH_WORDS and (re.search(r"[_.<]", w) or w in english)}


def findings(text: str, identifiers: Iterable[str]) -> list[str]:
    """Every developer word in ``text``: snake_case, file names, issue references, known English words, identifiers."""
    hits = SNAKE_CASE.findall(text) + FILE_NAME.findall(text) + ISSUE_REF.findall(text)
    tokens = {t.strip(".-") for t in re.findall(r"[A-Za-z0-9_.\-]+", text)}
    hits += [w for w in identifiers if w in tokens]
    hits += [w for w in ENGLISH if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.IGNORECASE)]
    return sorted(set(hits))


class _Text(HTMLParser):
    """Visible text and alt/title attributes of an HTML page (scripts and styles left out)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in ("alt", "title", "aria-label") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(path: Path) -> str:
    parser = _Text()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    return " ".join(parser.parts)


def docx_text(path: Path) -> str:
    """The text of a docx's body, notes and image descriptions."""
    with zipfile.ZipFile(path) as zf:
        xml = " ".join(zf.read(n).decode("utf-8") for n in zf.namelist()
                       if n.startswith("word/") and n.endswith(".xml"))
    # The alt text Word shows is the drawing's (wp:docPr); pandoc puts the image's file path on the inner picture.
    descriptions = re.findall(r'<wp:docPr [^>]*descr="([^"]*)"', xml)
    return " ".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml) + descriptions)
