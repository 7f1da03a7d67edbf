"""What ingestion found: counts per extract, quarantine by rule, unmapped labels, changes since last extract.

``quality.json`` is the machine-readable record (the run manifest takes its
fingerprints from it); ``quality_tables`` and ``quality_notes`` give the
data-quality report its Danish tables and remarks (numbers already formatted
with ``analysis.report.fmt``), so the notebook only displays.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from analysis.fingerprint import combine
from analysis.report import escape, fmt

RULES_DA = {
    "missing_value": "påkrævet værdi mangler",
    "cpr_malformed": "ugyldigt CPR-nummer",
    "cpr_in_value": "værdi ligner et CPR-nummer",
    "bad_date": "dato kan ikke læses",
    "bad_number": "tal kan ikke læses",
    "bad_value": "værdi uden for de tilladte",
    "end_before_start": "slutdato før startdato",
    "future_date": "dato efter udtræksdatoen",
    "overlapping_period": "overlappende gyldighedsperioder",
    "duplicate": "eksakt dublet",
    "duplicate_key": "nøgle brugt to gange",
    "unknown_reference": "henviser til ukendt nøgle",
}


@dataclass
class ExtractQuality:
    """Reading and reconciliation of one extract."""

    extract: str
    table: str
    file: str
    file_format: str
    encoding: str
    separator: str
    decimal: str
    rows_read: int
    rows_clean: int
    rows_quarantined: int
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    duplicates_collapsed: int = 0
    unmapped_labels: dict[str, dict[str, int]] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)


@dataclass
class QualityReport:
    """Everything ``run_ingest`` found and wrote; saved as quality.json."""

    extract_date: str
    extract_date_source: str
    pseudonym_key_source: str
    labels_version: int
    extracts: dict[str, ExtractQuality]
    outputs: dict[str, dict[str, object]] = field(default_factory=dict)  # table → rows, sha256
    changes: dict[str, dict[str, object]] = field(default_factory=dict)  # table → rows_added/changed/removed
    overlapping_stays: int = 0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "QualityReport":
        data = json.loads(path.read_text(encoding="utf-8"))
        data["extracts"] = {k: ExtractQuality(**v) for k, v in data["extracts"].items()}
        return cls(**data)


def load_quality(processed_dir: Path) -> QualityReport:
    return QualityReport.load(processed_dir / "quality.json")


def data_fingerprint(quality: QualityReport) -> str:
    """One digest of every processed output (the colophon's data fingerprint)."""
    return combine({table: out["sha256"] for table, out in quality.outputs.items()})


def _separator_da(q: ExtractQuality) -> str:
    return {"xlsx": "(regneark)", ";": "semikolon", ",": "komma"}[q.separator]


def quality_tables(quality: QualityReport) -> dict[str, pd.DataFrame]:
    """Danish tables for the report: rows, quarantine, unmapped_labels, changes."""
    number = fmt.number
    ex = quality.extracts.values()
    rows = pd.DataFrame({
        "Udtræk": [q.extract for q in ex],
        "Format": [q.file_format for q in ex],
        "Tegnsæt": [q.encoding for q in ex],
        "Separator": [_separator_da(q) for q in ex],
        "Decimaltegn": ["(regneark)" if q.file_format == "xlsx" else {",": "komma", ".": "punktum"}[q.decimal] for q in ex],
        "Rækker læst": [number(q.rows_read) for q in ex],
        "Rene rækker": [number(q.rows_clean) for q in ex],
        "I karantæne": [number(q.rows_quarantined) for q in ex],
    })
    rules = pd.DataFrame(
        [(q.extract, rule, RULES_DA.get(rule, rule), number(n)) for q in ex for rule, n in sorted(q.quarantined_by_rule.items())],
        columns=["Udtræk", "Regel", "Betydning", "Rækker"],
    )
    labels = pd.DataFrame(
        [(q.extract, col, text, number(n)) for q in ex for col, found in q.unmapped_labels.items()
         for text, n in sorted(found.items(), key=lambda kv: -kv[1])],
        columns=["Udtræk", "Kolonne", "Tekst (normaliseret)", "Antal"],
    )
    changes = pd.DataFrame(
        [(t, number(c["rows_added"]), number(c["rows_changed"]), number(c["rows_removed"]), c["compared_with"])
         for t, c in quality.changes.items()],
        columns=["Tabel", "Nye rækker", "Ændrede rækker", "Forsvundne rækker", "Sammenlignet med udtræk"],
    )
    return {"rows": rows, "quarantine": rules, "unmapped_labels": labels, "changes": changes}


def quality_notes(quality: QualityReport) -> str:
    """Danish remarks (Markdown bullets) on how the delivery was read."""
    notes = [f"Udtræksdato {fmt.date(quality.extract_date)}"
             + (" (fra udtraek.yml)." if quality.extract_date_source == "udtraek.yml"
                else " — udtraek.yml mangler, så den nyeste fildato er brugt.")]
    for q in quality.extracts.values():
        if q.separator == ",":
            notes.append(f"`{q.extract}` var kommasepareret med punktum som decimaltegn (ikke dansk Excel-format); læst som sådan.")
        if q.extra_columns:
            names = ", ".join(escape.text(c) for c in q.extra_columns)  # named by the delivery: shown, never read as Markdown
            notes.append(f"`{q.extract}` har ekstra kolonner, som er ignoreret: {names}.")
        if q.duplicates_collapsed:
            notes.append(f"`{q.extract}`: {fmt.number(q.duplicates_collapsed)} ekstra kopier af eksakt ens rækker "
                         "er lagt i karantæne (regel `duplicate`).")
    if not any(q.unmapped_labels for q in quality.extracts.values()):
        notes.append("Alle udskrivnings- og fraflytningsgrunde kunne oversættes til en kategori.")
    if not quality.changes:
        notes.append("Intet tidligere udtræk at sammenligne med (første indlæsning eller samme udtræksdato).")
    notes.append(f"Overlappende ophold for samme person: {fmt.number(quality.overlapping_stays)} "
                 "(beholdt; de slås sammen, når forløb dannes).")
    notes.append(f"Tekstkoder oversat med labels.yml version {quality.labels_version}.")
    return "\n".join(f"- {n}" for n in notes)
