"""``run_ingest``: raw extracts in, validated pseudonymised Parquet, quarantine and quality.json out."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

import pandas as pd

from analysis.clean.episodes import count_overlapping_stays
from analysis.context import read_extract_date
from analysis.ingest.errors import PseudonymKeyError, ReconciliationError
from analysis.ingest.labels import load_label_map
from analysis.ingest.pseudonym import DEMO_SOURCE, Pseudonymiser, load_key, refuse_cpr_in_column_names
from analysis.ingest.quality import ExtractQuality, QualityReport
from analysis.ingest.quarantine import quarantine_rows
from analysis.ingest.plausibility import Acknowledgements, check_extracts
from analysis.ingest.reading import Limits, read_extract
from analysis.ingest.rules import check_extract
from analysis.ingest.schemas import EXTRACTS, Table
from analysis.ingest.state import changes_since_previous, record
from analysis.ingest.storage import write_table
from analysis.months import last_complete_month, period_label as month_label
from analysis.params import load_params

log = logging.getLogger(__name__)


def _reference_order() -> list[Table]:
    """Reference tables first, so their clean keys exist when other extracts are checked."""
    return sorted(EXTRACTS.values(), key=lambda spec: bool(spec.references))


def reconcile(q: ExtractQuality) -> None:
    """The contract's invariant, asserted by every run (never only by a test)."""
    if q.rows_read != q.rows_clean + q.rows_quarantined or sum(q.quarantined_by_rule.values()) != q.rows_quarantined:
        raise ReconciliationError(f"{q.file}: rows_read {q.rows_read} != rows_clean {q.rows_clean} "
                                  f"+ rows_quarantined {q.rows_quarantined} (by rule {q.quarantined_by_rule})")


def run_ingest(raw_dir: Path, processed_dir: Path, params: Mapping[str, object] | None = None) -> QualityReport:
    """Ingest every extract of ``raw_dir`` into ``processed_dir``; structural problems raise ``IngestError``.

    The extracts are read and checked, and the plausibility gates passed, before anything is written: a
    refused delivery leaves ``processed_dir`` as the last good one left it.
    """
    params = params if params is not None else load_params()
    limits = Limits.from_params(params)
    extract_date, date_source = read_extract_date(raw_dir)
    key, key_source = load_key(raw_dir)
    pseudonyms = Pseudonymiser(key, demo=key_source == DEMO_SOURCE)
    clean: dict[str, pd.DataFrame] = {}
    known: dict[str, pd.Index] = {}
    quarantined: list[pd.DataFrame] = []
    extracts: dict[str, ExtractQuality] = {}
    for spec in _reference_order():
        raw = read_extract(raw_dir, spec.extract, tuple(spec.raw_columns), limits)
        refuse_cpr_in_column_names(raw.path, raw.frame.columns)
        try:
            checked = check_extract(raw, spec, pseudonyms, extract_date, known)
        except PseudonymKeyError as exc:
            raise PseudonymKeyError(f"{raw.path.name}: {exc}") from None
        if checked.extra_columns:
            log.warning("%s: extra columns ignored: %s", raw.path.name, ", ".join(checked.extra_columns))
        q = quarantine_rows(spec.extract, raw.frame, checked, spec)
        by_rule = {str(k): int(v) for k, v in q["rule"].value_counts().sort_index().items()}
        extracts[spec.extract] = quality = ExtractQuality(
            spec.extract, spec.name, raw.path.name, raw.file_format, raw.encoding, raw.separator, raw.decimal,
            len(raw.frame), len(checked.clean), len(q), by_rule, by_rule.get("duplicate", 0),
            {c: u for c, u in checked.unmapped.items() if u}, checked.extra_columns,
        )
        reconcile(quality)
        log.info("%s: %d read, %d clean, %d quarantined %s", spec.extract, quality.rows_read, quality.rows_clean,
                 quality.rows_quarantined, by_rule or "")
        clean[spec.name] = checked.clean
        known[spec.name] = pd.Index(checked.clean[spec.key[0]].unique())
        quarantined.append(q)
        del raw, checked

    changes, fingerprints = changes_since_previous(processed_dir / "_state", extract_date, clean)
    acknowledged = check_extracts(extracts, changes, params, Acknowledgements.load(raw_dir),
                                  month_label(last_complete_month(extract_date)))

    processed_dir.mkdir(parents=True, exist_ok=True)
    outputs = {"persons": write_table(pseudonyms.persons(), "persons", processed_dir / "persons.parquet")}
    del pseudonyms
    for name, frame in clean.items():
        outputs[name] = write_table(frame, name, processed_dir / f"{name}.parquet")
    outputs["quarantine"] = write_table(pd.concat(quarantined, ignore_index=True), "quarantine",
                                        processed_dir / "quarantine.parquet")
    report = QualityReport(
        extract_date=str(extract_date.date()), extract_date_source=date_source, pseudonym_key_source=key_source,
        labels_version=load_label_map().version, extracts=extracts, outputs=outputs,
        changes=changes,
        overlapping_stays=count_overlapping_stays(clean["stays"], extract_date + pd.Timedelta(days=1)),
        acknowledged=acknowledged,
    )
    record(processed_dir / "_state", extract_date, fingerprints)
    report.save(processed_dir / "quality.json")
    return report
