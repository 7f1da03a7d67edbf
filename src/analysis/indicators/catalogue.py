"""The indicator catalogue: one mapping of every indicator id to its written definition.

Definitions live in ``catalogue/*.yml`` (one file per area) so an auditor can
check each figure against its text; the loader refuses an incomplete entry or
an id defined twice, because either would let a published figure go undefined.
Every entry carries its definition, window and censoring twice: in English
(``definition``, ``window``, ``censoring``, for docs/indicators.md) and in Danish
(``definition_da``, ``window_da``, ``censoring_da``, for the status memo's appendix).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from analysis.base.suppression import KINDS

REQUIRED = ("label_da", "definition", "window", "censoring", "definition_da", "window_da", "censoring_da", "kind", "unit",
            "breakdowns")
# written texts: English for docs/indicators.md, Danish (``*_da``) for the status memo's appendix
TEXTS = ("label_da", "definition", "window", "censoring", "definition_da", "window_da", "censoring_da")


class CatalogueError(ValueError):
    """The catalogue files do not define every indicator exactly once and completely."""


def _default_folder() -> Path:
    return Path(str(resources.files(__package__).joinpath("catalogue")))


def _safe_load(text: str) -> Any:
    """``yaml.safe_load`` with libyaml's parser where PyYAML has it (same constructor, ~10× faster)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader


def load_catalogue(folder: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """All ``*.yml`` files of the catalogue folder as one ``{id: entry}`` mapping, checked."""
    where = Path(folder) if folder is not None else _default_folder()
    catalogue: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    problems = []
    for path in sorted(where.glob("*.yml")):
        for ind, entry in (_safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if ind in catalogue:
                problems.append(f"{ind}: defined in both {origin[ind]} and {path.name}")
                continue
            catalogue[ind], origin[ind] = dict(entry or {}), path.name
    for ind, entry in catalogue.items():
        missing = [f for f in REQUIRED if f not in entry]
        if missing:
            problems.append(f"{ind} ({origin[ind]}): missing {', '.join(missing)}")
        blank = [f for f in TEXTS if f in entry and not (isinstance(entry[f], str) and entry[f].strip())]
        if blank:
            problems.append(f"{ind} ({origin[ind]}): empty or not text: {', '.join(blank)}")
        if entry.get("kind") not in KINDS:
            problems.append(f"{ind} ({origin[ind]}): kind {entry.get('kind')!r} is not one of {', '.join(sorted(KINDS))}")
        if not isinstance(entry.get("breakdowns", []), list):
            problems.append(f"{ind} ({origin[ind]}): breakdowns must be a list")
        if "base" in entry and entry["base"] not in catalogue:
            problems.append(f"{ind} ({origin[ind]}): base {entry['base']!r} is not in the catalogue")
    if problems:
        raise CatalogueError("indicator catalogue is invalid:\n  " + "\n  ".join(problems))
    return catalogue


def _breakdown_text(entry: Mapping[str, Any]) -> str:
    values = [str(b) for b in entry["breakdowns"]]
    return ", ".join(f"`{b}`" for b in values) if values else "–"


FIELD_NAMES = {
    "da": ("Id", "Definition", "Vindue", "Censurering", "Opdeling"),
    "en": ("Id", "Definition", "Window", "Censoring", "Breakdowns"),
}
# the catalogue keys of the definition, window and censoring texts in each language
TEXT_KEYS = {
    "da": ("definition_da", "window_da", "censoring_da"),
    "en": ("definition", "window", "censoring"),
}


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


def definitions_markdown(catalogue: Mapping[str, Mapping[str, Any]], heading_level: int = 2, lang: str = "da") -> str:
    """The catalogue as Markdown (Danish label, id, definition, window, censoring, breakdowns), sorted by id.

    ``lang="da"`` for the memo's appendix: Danish headings and the ``*_da`` texts, unnumbered headings for
    Quarto. ``"en"`` for docs/indicators.md: English headings and texts, with the Danish definition added
    for reference.
    """
    names = FIELD_NAMES[lang]
    hashes = "#" * heading_level
    suffix = " {.unnumbered}" if lang == "da" else ""
    parts = []
    for ind in sorted(catalogue):
        e = catalogue[ind]
        texts = tuple(_one_line(e[k]) for k in TEXT_KEYS[lang])
        values = (f"`{ind}` ({e['kind']}, {e['unit']})", *texts, _breakdown_text(e))
        lines = "".join(f"- **{n}:** {v}\n" for n, v in zip(names, values))
        if lang == "en":
            lines += f"- **Definition (Danish):** {_one_line(e['definition_da'])}\n"
        parts.append(f"{hashes} {e['label_da']}{suffix}\n\n{lines}")
    return "\n".join(parts)


def write_docs(path: str | Path, catalogue: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Regenerate ``docs/indicators.md`` from the catalogue (never edit that file by hand)."""
    cat = catalogue if catalogue is not None else load_catalogue()
    header = (
        "# Indicator catalogue\n\n"
        "Generated from `src/analysis/indicators/catalogue/*.yml` by "
        "`analysis.indicators.catalogue.write_docs`; edit the YAML, not this file.\n"
        "Each entry: Danish label, id, kind and unit, definition, window, censoring, breakdowns, and the Danish\n"
        "definition (the status memo's appendix prints the Danish definition, window and censoring).\n\n"
    )
    out = Path(path)
    out.write_text(header + definitions_markdown(cat, lang="en"), encoding="utf-8")
    return out


if __name__ == "__main__":  # python -m analysis.indicators.catalogue [path]
    import sys

    print(write_docs(sys.argv[1] if len(sys.argv) > 1 else "docs/indicators.md"))
