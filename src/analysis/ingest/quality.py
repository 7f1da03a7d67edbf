"""What ingestion found: counts per extract, quarantine by rule, unmapped labels, changes since last extract.

``quality.json`` is the machine-readable record (the run manifest takes its
fingerprints from it); ``quality_tables`` and ``quality_notes`` give the
data-quality report its Danish tables and remarks (numbers already formatted
with ``analysis.base.fmt``), so the notebook only displays.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from analysis.fingerprint import combine
from analysis.base import escape, fmt

RULES_DA = {
    "bad_field_count": "forkert antal felter i linjen",
    "merged_cell": "flettet celle i regnearket",
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
    acknowledged: dict[str, str] = field(default_factory=dict)  # plausibility check → the analysts' reason

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


CHECKS_DA = {"zero_rows": "har ingen rækker", "quarantine_share": "har mange rækker i karantæne",
             "rows_removed": "mangler mange rækker fra sidste udtræk"}


def _acknowledged_da(check: str) -> str:
    """A plausibility check id (``bostoette.zero_rows``, ``key_figure.support_active``) in Danish."""
    subject, what = check.split(".", 1)
    if subject == "key_figure":
        return f"nøgletallet `{what}` har flyttet sig meget mod sidste offentliggjorte måned"
    return f"udtrækket `{subject}` {CHECKS_DA.get(what, what)}"


def quality_verdict(quality: QualityReport, max_quarantined_share: float) -> str:
    """The data-quality report's opening verdict in plain Danish (Markdown): what was read, what was set aside
    and why, what changed since the last extract, and what publication of the month depends on.

    Counts only: no cell of the extract appears here.
    """
    ex = list(quality.extracts.values())
    read, quarantined = sum(q.rows_read for q in ex), sum(q.rows_quarantined for q in ex)
    by_rule: dict[str, int] = {}
    for q in ex:
        for rule, n in q.quarantined_by_rule.items():
            by_rule[rule] = by_rule.get(rule, 0) + n
    reasons = ", ".join(f"{RULES_DA.get(rule, rule)} ({fmt.number(n)})"
                        for rule, n in sorted(by_rule.items(), key=lambda kv: -kv[1])[:3])
    worst = max(ex, key=lambda q: q.rows_quarantined / q.rows_read if q.rows_read else 0.0)
    lines = [
        f"**Læst:** {fmt.number(len(ex))} udtræk med i alt {fmt.number(read)} rækker, udtræksdato "
        f"{fmt.date(quality.extract_date)}. Hver fil er læst som en helhed i ét tegnsæt, og dens kolonner svarer til "
        "datakontrakten.",
        (f"**Sat til side:** {fmt.number(quarantined)} rækker ({fmt.pct(quarantined / read, 1) if read else '0 %'}) "
         f"er lagt i karantæne og indgår ikke i tallene. Hyppigste grunde: {reasons}. Højeste andel: "
         f"`{worst.extract}` med {fmt.pct(worst.rows_quarantined / worst.rows_read, 1)}."
         if quarantined else "**Sat til side:** ingen rækker; alle rækker overholder datakontrakten."),
    ]
    if quality.changes:
        added = sum(int(c["rows_added"]) for c in quality.changes.values())
        changed = sum(int(c["rows_changed"]) for c in quality.changes.values())
        removed = sum(int(c["rows_removed"]) for c in quality.changes.values())
        since = max(str(c["compared_with"]) for c in quality.changes.values())
        lines.append(f"**Ændret siden sidste udtræk** ({fmt.date(since)}): {fmt.number(added)} nye, "
                     f"{fmt.number(changed)} rettede og {fmt.number(removed)} forsvundne rækker.")
    else:
        lines.append("**Ændret siden sidste udtræk:** intet tidligere udtræk at sammenligne med.")
    if quality.acknowledged:
        lines.append("**Godkendt af analytikerne for måneden** (`godkendelser.yml`): " + "; ".join(
            f"{_acknowledged_da(check)} — {reason}" for check, reason in quality.acknowledged.items()) + ".")
    lines.append(
        f"**Offentliggørelse:** udtrækket har bestået kontrollerne før offentliggørelse (ingen tomme udtræk, højst "
        f"{fmt.pct(max_quarantined_share)} af rækkerne i karantæne pr. udtræk, ingen større tab af rækker fra sidste "
        "udtræk"
        + (", eller godkendt af analytikerne" if quality.acknowledged else "") + "). Månedens tal offentliggøres kun, "
        "hvis også nøgletallene består sammenligningen med sidste offentliggjorte måned, og denne rapport "
        "offentliggøres kun sammen med dem: ligger den i månedens mappe under rapporterne eller i den delte mappe, "
        "er måneden offentliggjort. Ellers stoppede kørslen, og sidste måneds rapporter står uændret.")
    return "\n\n".join(lines)


def quality_notes(quality: QualityReport) -> str:
    """Danish remarks (Markdown bullets) on how the delivery was read."""
    notes = [f"Udtræksdato {fmt.date(quality.extract_date)} (fra udtraek.yml)."]
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
