"""Structural ingest failures: the run stops, naming the file (and column) at fault.

Row-level problems never raise; they are quarantined. Each class carries the
scheduler's exit code (``analysis.failures``): bad data (4) unless it says otherwise.
"""
from __future__ import annotations

from analysis.failures import RunFailure


class IngestError(RunFailure):
    """An extract that cannot be ingested as delivered."""

    exit_code = 4


class MissingExtractError(IngestError):
    """A required extract file is absent."""

    exit_code = 3


class AmbiguousExtractError(IngestError):
    """Both <extract>.csv and <extract>.xlsx are present: which one is the delivery is unknown."""


class EncodingError(IngestError):
    """A CSV file that is neither UTF-8 nor Windows-1252, or cannot be split into fields."""


class SchemaError(IngestError):
    """A required column is missing, or a processed table fails its schema on write."""


class ReconciliationError(IngestError):
    """rows_read != rows_clean + rows_quarantined: a row was lost or counted twice."""


class PseudonymKeyError(IngestError):
    """No usable pseudonymisation key (or one stored inside the project): configuration, not data."""

    exit_code = 2


class ExtractTooLargeError(IngestError):
    """A file or one of its fields above the size limits (``ingest.max_file_mb``, ``ingest.max_field_chars``)."""


class DeliveryError(IngestError):
    """``udtraek.yml`` that cannot be read as the delivery's description (invalid YAML, no valid date)."""


class PlausibilityError(IngestError):
    """Rows are valid one by one, but the extract as a whole is implausible (empty, mostly quarantined, a key
    figure jumping): the run stops unless the analysts acknowledge it for the month."""
