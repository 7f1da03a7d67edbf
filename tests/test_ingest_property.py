"""Property: whatever the rows hold, every row read is either clean or quarantined, exactly once."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.ingest.quarantine import quarantine_rows
from analysis.ingest.pseudonym import Pseudonymiser
from analysis.ingest.reading import RawExtract
from analysis.ingest.rules import check_extract
from analysis.ingest.schemas import EXTRACTS

CELLS = {
    "ophold_id": st.sampled_from(["S1", "S2", "S3", ""]),
    "cpr": st.sampled_from(["610190-1235", "6502854322", "12345", "", "611390-1235"]),
    "herberg_id": st.sampled_from(["H1", "H2", "H9", ""]),
    "indskrevet": st.sampled_from(["01-01-2023", "2023-01-05", "31-02-2023", "", "x", "01-01-2030"]),
    "udskrevet": st.sampled_from(["", "10-01-2023", "2022-12-01", "2023-13-01"]),
    "udskrivningsgrund": st.sampled_from(["", "Gaden", "EGEN bolig.", "Rumrejse"]),
    "handlekommune": st.sampled_from(["101", "147", "KBH", ""]),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries(CELLS), max_size=25))
def test_rows_read_equals_clean_plus_quarantined(rows):
    frame = pd.DataFrame(rows, columns=list(CELLS), dtype=object).fillna("")
    raw = RawExtract("ophold", Path("ophold.csv"), frame, "csv", "utf-8", ";", ",")
    checked = check_extract(raw, EXTRACTS["ophold"], Pseudonymiser(b"k"), pd.Timestamp("2023-04-03"),
                            {"shelters": pd.Index(["H1", "H2"])})
    quarantine = quarantine_rows("ophold", frame, checked, EXTRACTS["ophold"])
    assert len(frame) == len(checked.clean) + len(quarantine)
    assert quarantine["row_number"].is_unique
    assert not checked.clean["stay_id"].duplicated().any()
