"""Ingestion to the data contract: read, validate, pseudonymise, map labels, quarantine (docs/architecture.md)."""
from analysis.ingest.errors import (
    AmbiguousExtractError, EncodingError, IngestError, MissingExtractError, PseudonymKeyError, ReconciliationError,
    SchemaError,
)
from analysis.ingest.quality import QualityReport, data_fingerprint, load_quality, quality_notes, quality_tables
from analysis.ingest.run import run_ingest

__all__ = [
    "AmbiguousExtractError", "EncodingError", "IngestError", "MissingExtractError", "PseudonymKeyError",
    "QualityReport", "ReconciliationError", "SchemaError", "data_fingerprint", "load_quality", "quality_notes",
    "quality_tables", "run_ingest",
]
