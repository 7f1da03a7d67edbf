"""CPR numbers in any spelling, found in text that should never hold one.

A CPR number is ten digits, DDMMYY and a four-digit serial, and people write it
in many ways (shown with a synthetic day, 20 + 60): ``8008802020``, ``800880-2020``,
``800880 2020``, ``800880–2020`` (en dash), ``80.08.80-2020``, ``80 08 80 2020``. The pattern below accepts any of
those separators (up to three characters, e.g. ``" - "``) between the parts,
with any Unicode digits, but only a valid day (01–31, or 61–91 for replacement
numbers) and month (01–12), so amounts and phone numbers are not mistaken for one.

Ingest masks what it finds in free text; the narrative, id columns and column
names refuse it (analysis.base.escape, analysis.ingest.rules, analysis.ingest.run).
Messages about a hit name where it is, never what it is.
"""
from __future__ import annotations

import logging
import re
from typing import Iterator

MASK = "<cpr>"

# Separators people type between the parts of a CPR number: spaces of every width, hyphens and dashes, dots,
# slashes, underscores, and the invisible format characters a copy from a web page or Word carries along.
_SEP = r"[\s.\-\u2010-\u2015\u2212/_\u00ad\u200b-\u200d\u2060\ufeff]{0,3}"
_CPR = re.compile(rf"(?<!\d)(?P<day>\d{{2}}){_SEP}(?P<month>\d{{2}}){_SEP}\d{{2}}{_SEP}\d{{4}}(?!\d)")


def _valid(match: re.Match[str]) -> bool:
    day, month = int(match["day"]), int(match["month"])  # int() reads every Unicode decimal digit
    return (1 <= day <= 31 or 61 <= day <= 91) and 1 <= month <= 12


def find(text: str) -> Iterator[re.Match[str]]:
    """Every CPR-shaped number in ``text`` (``\\d`` is every Unicode decimal digit: full-width ones count too)."""
    return (m for m in _CPR.finditer(text) if _valid(m))


def contains(text: str) -> bool:
    """True when ``text`` holds anything shaped like a CPR number, in any spelling."""
    return next(find(text), None) is not None


def mask(text: str) -> str:
    """``text`` with every CPR-shaped number replaced by :data:`MASK`."""
    return _CPR.sub(lambda m: MASK if _valid(m) else m.group(0), text)


def lines_with_cpr(text: str) -> list[int]:
    """1-based numbers of the lines of ``text`` where a CPR-shaped number starts."""
    return sorted({text.count("\n", 0, m.start()) + 1 for m in find(text)})


class MaskingFormatter(logging.Formatter):
    """Log lines (tracebacks included) with CPR-shaped numbers masked: the run log and cron mail are not ingest."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))
