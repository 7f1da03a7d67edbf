"""Mapping free-text reasons to the categories of data-contract §3.

The mapping is data (``labels.yml``, versioned) so analysts add a new spelling
without touching code. Labels are compared after normalisation; an unknown
label becomes ``ukendt`` and is counted, so the data-quality report shows what
to add next. A blank reason is ``ukendt`` too, but that is not a mapping gap.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd
import yaml

from analysis.ingest.reading import by_unique
from analysis.ingest.schemas import LABEL_CATEGORIES

UNKNOWN = "ukendt"
_TRAILING_PUNCTUATION = r"[\s.,;:!?]+$"


@dataclass(frozen=True)
class LabelMap:
    version: int
    maps: dict[str, dict[str, str]]  # kind → normalised label → category


def normalise_labels(values: pd.Series) -> pd.Series:
    """Casefold, trim, collapse whitespace, drop trailing punctuation (NFC first, so æøå compare equal)."""
    text = values.fillna("").astype(str).str.normalize("NFC").str.casefold()
    text = text.str.replace(r"\s+", " ", regex=True).str.strip()
    return text.str.replace(_TRAILING_PUNCTUATION, "", regex=True)


@lru_cache(maxsize=1)
def load_label_map() -> LabelMap:
    """labels.yml, checked: known categories only, and no label claimed by two categories."""
    text = resources.files(__package__).joinpath("labels.yml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - libyaml, safe
    maps: dict[str, dict[str, str]] = {}
    for kind, categories in LABEL_CATEGORIES.items():
        unknown = set(data[kind]) - set(categories)
        if unknown:
            raise ValueError(f"labels.yml: {kind}: unknown categories {sorted(unknown)}; allowed {list(categories)}")
        mapping: dict[str, str] = {}
        for category, labels in data[kind].items():
            for label, norm in zip(labels, normalise_labels(pd.Series(labels, dtype=object))):
                if mapping.setdefault(norm, category) != category:
                    raise ValueError(f"labels.yml: {kind}: '{label}' is mapped to both {mapping[norm]} and {category}")
        maps[kind] = mapping
    return LabelMap(int(data["version"]), maps)


def map_labels(values: pd.Series, kind: str) -> tuple[pd.Series, dict[str, int]]:
    """Categories for raw labels, and the unmapped (normalised) labels with their counts."""
    norm = by_unique(values.fillna("").astype(str), normalise_labels)
    category = norm.map(load_label_map().maps[kind])
    unmapped = category.isna() & (norm != "")
    counts = norm[unmapped].value_counts()
    return category.fillna(UNKNOWN).astype(object), {str(k): int(v) for k, v in counts.items()}
