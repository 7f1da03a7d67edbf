"""Row fingerprints kept between ingests: the hash values stay those of ``pd.util.hash_pandas_object``."""
from __future__ import annotations

import pandas as pd

from analysis.ingest.state import row_fingerprints


def test_fingerprints_are_pandas_hashes_of_key_and_row():
    frame = pd.DataFrame({
        "shelter_id": ["H1", "H1", "H2", None],
        "name": ["a", "a", "b", "c"],
        "ownership": ["kommunal", "kommunal", "privat", "privat"],
        "paragraph": ["110", "107", "110", "110"],
        "target_group": [None, "unge", None, None],
        "places": [20, 5, 10, 0],
        "valid_from": pd.to_datetime(["2020-01-01", "2023-02-01", "2020-01-01", "2021-01-01"]),
        "valid_to": pd.to_datetime([None, None, "2023-01-31", None]),
        "convertible_places": pd.array([6, pd.NA, 4, pd.NA], dtype="Int64"),
    })
    got = row_fingerprints(frame, "shelters")
    key = pd.util.hash_pandas_object(frame[["shelter_id", "paragraph", "valid_from"]], index=False)
    assert got["key"].tolist() == key.tolist()
    assert got["hash"].tolist() == pd.util.hash_pandas_object(frame, index=False).tolist()
