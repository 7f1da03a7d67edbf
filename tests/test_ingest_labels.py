"""Label mapping: normalisation, known variants, unmapped counted, blank is ukendt but not a gap."""
from __future__ import annotations

import pandas as pd

from analysis.ingest.labels import load_label_map, map_labels, normalise_labels
from analysis.ingest.schemas import LABEL_CATEGORIES
from analysis.synthetic.labels import DISCHARGE_LABELS, MOVEOUT_LABELS, TYPOS


def test_normalisation():
    got = normalise_labels(pd.Series(["  EGEN   bolig. ", "Fængsel!", None, "Botilbud §107"]))
    assert got.tolist() == ["egen bolig", "fængsel", "", "botilbud §107"]


def test_every_base_label_and_typo_maps_to_its_category():
    for kind, labels in (("discharge", DISCHARGE_LABELS), ("moveout", MOVEOUT_LABELS)):
        for category, texts in labels.items():
            got, unmapped = map_labels(pd.Series(list(texts), dtype=object), kind)
            assert set(got) == {category} and unmapped == {}, (kind, category)
    typos = pd.Series(list(TYPOS.values()))
    assert map_labels(typos, "discharge")[0].tolist()[:3] == ["egen_bolig", "faengsel", "behandling"]
    assert map_labels(pd.Series(["Udsætelse"]), "moveout")[0].item() == "udsaettelse"


def test_unknown_label_is_ukendt_and_counted_blank_is_not():
    got, unmapped = map_labels(pd.Series(["Rumrejse", "rumrejse.", "", None, "Gaden"]), "discharge")
    assert got.tolist() == ["ukendt", "ukendt", "ukendt", "ukendt", "gaden"]
    assert unmapped == {"rumrejse": 2}


def test_map_uses_only_contract_categories():
    label_map = load_label_map()
    for kind, mapping in label_map.maps.items():
        assert set(mapping.values()) <= set(LABEL_CATEGORIES[kind])
