"""Ingestion to the data contract: read, validate, pseudonymise, map labels, quarantine (docs/architecture.md).

``run_ingest`` and the quality helpers are loaded on first use (PEP 562): the clean and indicator steps import
only ``schemas`` and ``storage`` from this package, and should not pay for loading the readers, rules and
pseudonymisation they never call.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from analysis.ingest.errors import (
    AmbiguousExtractError, DeliveryError, EncodingError, ExtractTooLargeError, IngestError, MissingExtractError,
    PlausibilityError, PseudonymKeyError, ReconciliationError, SchemaError,
)

if TYPE_CHECKING:
    from analysis.ingest.quality import QualityReport, data_fingerprint, load_quality, quality_notes, quality_tables
    from analysis.ingest.run import run_ingest

_LAZY = {"QualityReport": "quality", "data_fingerprint": "quality", "load_quality": "quality",
         "quality_notes": "quality", "quality_tables": "quality", "run_ingest": "run"}

__all__ = [
    "AmbiguousExtractError", "DeliveryError", "EncodingError", "ExtractTooLargeError", "IngestError", "MissingExtractError", "PlausibilityError", "PseudonymKeyError",
    "QualityReport", "ReconciliationError", "SchemaError", "data_fingerprint", "load_quality", "quality_notes",
    "quality_tables", "run_ingest",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
